//! Phase 2, parse: validate the binary with wasmparser, then read each section into [`ModuleInfo`].

use super::convert::{ref_type, sub_type, val_type, wp_err, ParseResult};
use super::*;
use crate::error::Error;
use crate::types::{GlobalType, MemoryType, TableType};
use wasmparser::{self as wp, Payload};

/// Validates `binary` with `features` and reads it into a [`ModuleInfo`].
pub(crate) fn parse(binary: &[u8], features: wp::WasmFeatures) -> ParseResult<ModuleInfo> {
    wp::Validator::new_with_features(features)
        .validate_all(binary)
        .map_err(wp_err)?;
    parse_validated(binary)
}

/// Reads a binary that was validated when it was compiled (the module of a precompiled
/// artifact whose checksum matched) into a [`ModuleInfo`], without validating it again.
/// Malformed bytes still give an error, never a panic.
pub(crate) fn parse_validated(binary: &[u8]) -> ParseResult<ModuleInfo> {
    let mut info = ModuleInfo {
        binary: Arc::from(binary),
        ..ModuleInfo::default()
    };
    for payload in wp::Parser::new(0).parse_all(binary) {
        read_payload(&mut info, payload.map_err(wp_err)?)?;
    }
    Ok(info)
}

fn read_payload(info: &mut ModuleInfo, payload: Payload<'_>) -> ParseResult<()> {
    match payload {
        Payload::TypeSection(reader) => {
            for group in reader {
                let start = info.types.len() as u32;
                for sub in group.map_err(wp_err)?.into_types() {
                    info.types.push(sub_type(&sub));
                }
                info.rec_groups.push(start..info.types.len() as u32);
            }
        }
        Payload::ImportSection(reader) => {
            for import in reader.into_imports() {
                read_import(info, import.map_err(wp_err)?);
            }
        }
        Payload::FunctionSection(reader) => {
            for ty in reader {
                info.functions.push(ty.map_err(wp_err)?);
            }
        }
        Payload::TableSection(reader) => {
            for table in reader {
                let table = table.map_err(wp_err)?;
                let init = match table.init {
                    wp::TableInit::RefNull => None,
                    wp::TableInit::Expr(e) => Some(const_expr(&e)?),
                };
                info.tables.push(TableDef {
                    ty: table_type(&table.ty),
                    init,
                });
            }
        }
        Payload::MemorySection(reader) => {
            for memory in reader {
                info.memories.push(memory_type(&memory.map_err(wp_err)?));
            }
        }
        Payload::TagSection(reader) => {
            for tag in reader {
                info.tags.push(tag.map_err(wp_err)?.func_type_idx);
            }
        }
        Payload::GlobalSection(reader) => {
            for global in reader {
                let global = global.map_err(wp_err)?;
                let init = const_expr(&global.init_expr)?;
                info.globals.push(GlobalDef {
                    ty: global_type(&global.ty),
                    init,
                });
            }
        }
        Payload::ExportSection(reader) => {
            for export in reader {
                let export = export.map_err(wp_err)?;
                let index = match export.kind {
                    wp::ExternalKind::Func | wp::ExternalKind::FuncExact => {
                        EntityIndex::Func(export.index)
                    }
                    wp::ExternalKind::Table => EntityIndex::Table(export.index),
                    wp::ExternalKind::Memory => EntityIndex::Memory(export.index),
                    wp::ExternalKind::Global => EntityIndex::Global(export.index),
                    wp::ExternalKind::Tag => EntityIndex::Tag(export.index),
                };
                info.exports.push((export.name.to_string(), index));
            }
        }
        Payload::StartSection { func, .. } => info.start = Some(func),
        Payload::ElementSection(reader) => {
            for element in reader {
                info.elements
                    .push(element_segment(element.map_err(wp_err)?)?);
            }
        }
        Payload::DataSection(reader) => {
            for data in reader {
                let data = data.map_err(wp_err)?;
                let mode = match data.kind {
                    wp::DataKind::Passive => DataMode::Passive,
                    wp::DataKind::Active {
                        memory_index,
                        offset_expr,
                    } => DataMode::Active {
                        memory: memory_index,
                        offset: const_expr(&offset_expr)?,
                    },
                };
                let end = data.range.end as usize;
                info.data.push(DataSegmentDef {
                    mode,
                    range: end - data.data.len()..end,
                });
            }
        }
        Payload::CodeSectionEntry(body) => {
            let r = body.range();
            info.bodies.push(FunctionBody {
                range: r.start as usize..r.end as usize,
            });
        }
        Payload::CustomSection(section) if section.name() == "name" => {
            // A malformed name section is ignored, as the spec requires of custom sections.
            let reader = wp::BinaryReader::new(section.data(), section.data_offset());
            let _ = read_names(info, wp::NameSectionReader::new(reader));
        }
        _ => {}
    }
    Ok(())
}

fn read_import(info: &mut ModuleInfo, import: wp::Import<'_>) {
    let index = match import.ty {
        wp::TypeRef::Func(ty) | wp::TypeRef::FuncExact(ty) => {
            info.functions.push(ty);
            info.num_imported_funcs += 1;
            EntityIndex::Func(info.functions.len() as u32 - 1)
        }
        wp::TypeRef::Table(t) => {
            info.tables.push(TableDef {
                ty: table_type(&t),
                init: None,
            });
            info.num_imported_tables += 1;
            EntityIndex::Table(info.tables.len() as u32 - 1)
        }
        wp::TypeRef::Memory(m) => {
            info.memories.push(memory_type(&m));
            info.num_imported_memories += 1;
            EntityIndex::Memory(info.memories.len() as u32 - 1)
        }
        wp::TypeRef::Global(g) => {
            info.globals.push(GlobalDef {
                ty: global_type(&g),
                init: Vec::new(),
            });
            info.num_imported_globals += 1;
            EntityIndex::Global(info.globals.len() as u32 - 1)
        }
        wp::TypeRef::Tag(t) => {
            info.tags.push(t.func_type_idx);
            info.num_imported_tags += 1;
            EntityIndex::Tag(info.tags.len() as u32 - 1)
        }
    };
    info.imports.push(Import {
        module: import.module.to_string(),
        name: import.name.to_string(),
        index,
        exact: matches!(import.ty, wp::TypeRef::FuncExact(_)),
    });
}

fn element_segment(element: wp::Element<'_>) -> ParseResult<ElementSegment> {
    let mode = match element.kind {
        wp::ElementKind::Passive => ElementMode::Passive,
        wp::ElementKind::Declared => ElementMode::Declared,
        wp::ElementKind::Active {
            table_index,
            offset_expr,
        } => ElementMode::Active {
            table: table_index.unwrap_or(0),
            offset: const_expr(&offset_expr)?,
        },
    };
    let (ty, items) = match element.items {
        wp::ElementItems::Functions(funcs) => {
            let mut items = Vec::new();
            for f in funcs {
                items.push(vec![ConstOp::RefFunc(f.map_err(wp_err)?)]);
            }
            (
                RefType {
                    nullable: false,
                    heap: crate::types::HeapType::Func,
                },
                items,
            )
        }
        wp::ElementItems::Expressions(ty, exprs) => {
            let mut items = Vec::new();
            for e in exprs {
                items.push(const_expr(&e.map_err(wp_err)?)?);
            }
            (ref_type(ty), items)
        }
    };
    Ok(ElementSegment { mode, ty, items })
}

/// Reads a constant expression into our own operator list.
pub(crate) fn const_expr(expr: &wp::ConstExpr<'_>) -> ParseResult<ConstExpr> {
    let mut ops = Vec::new();
    let mut reader = expr.get_operators_reader();
    while !reader.eof() {
        let op = reader.read().map_err(wp_err)?;
        ops.push(match op {
            wp::Operator::I32Const { value } => ConstOp::I32(value),
            wp::Operator::I64Const { value } => ConstOp::I64(value),
            wp::Operator::F32Const { value } => ConstOp::F32(value.bits()),
            wp::Operator::F64Const { value } => ConstOp::F64(value.bits()),
            wp::Operator::V128Const { value } => ConstOp::V128(value.i128() as u128),
            wp::Operator::RefNull { hty } => {
                ConstOp::RefNull(ref_type(wp::RefType::new(true, hty).ok_or_else(|| {
                    Error::Unsupported("reference type index too large".into())
                })?))
            }
            wp::Operator::RefFunc { function_index } => ConstOp::RefFunc(function_index),
            wp::Operator::GlobalGet { global_index } => ConstOp::GlobalGet(global_index),
            wp::Operator::I32Add => ConstOp::I32Add,
            wp::Operator::I32Sub => ConstOp::I32Sub,
            wp::Operator::I32Mul => ConstOp::I32Mul,
            wp::Operator::I64Add => ConstOp::I64Add,
            wp::Operator::I64Sub => ConstOp::I64Sub,
            wp::Operator::I64Mul => ConstOp::I64Mul,
            wp::Operator::RefI31 => ConstOp::RefI31,
            wp::Operator::StructNew { struct_type_index } => ConstOp::StructNew(struct_type_index),
            wp::Operator::StructNewDefault { struct_type_index } => {
                ConstOp::StructNewDefault(struct_type_index)
            }
            wp::Operator::ArrayNew { array_type_index } => ConstOp::ArrayNew(array_type_index),
            wp::Operator::ArrayNewDefault { array_type_index } => {
                ConstOp::ArrayNewDefault(array_type_index)
            }
            wp::Operator::ArrayNewFixed {
                array_type_index,
                array_size,
            } => ConstOp::ArrayNewFixed(array_type_index, array_size),
            wp::Operator::StructNewDesc { struct_type_index } => {
                ConstOp::StructNewDesc(struct_type_index)
            }
            wp::Operator::StructNewDefaultDesc { struct_type_index } => {
                ConstOp::StructNewDefaultDesc(struct_type_index)
            }
            // `any` and `extern` references share one encoding (see `vm::gc`).
            wp::Operator::AnyConvertExtern | wp::Operator::ExternConvertAny => continue,
            wp::Operator::End => continue,
            _ => ConstOp::Unsupported("GC allocation in a constant expression"),
        });
    }
    Ok(ops)
}

fn read_names(info: &mut ModuleInfo, reader: wp::NameSectionReader<'_>) -> wp::Result<()> {
    for name in reader {
        match name? {
            wp::Name::Module { name, .. } => info.names.module = Some(name.to_string()),
            wp::Name::Function(map) => {
                for naming in map {
                    let naming = naming?;
                    info.names
                        .functions
                        .insert(naming.index, naming.name.to_string());
                }
            }
            _ => {}
        }
    }
    Ok(())
}

pub(crate) fn table_type(t: &wp::TableType) -> TableType {
    TableType {
        element: ref_type(t.element_type),
        minimum: t.initial,
        maximum: t.maximum,
        table64: t.table64,
    }
}

pub(crate) fn memory_type(m: &wp::MemoryType) -> MemoryType {
    MemoryType {
        minimum: m.initial,
        maximum: m.maximum,
        memory64: m.memory64,
        shared: m.shared,
        page_size_log2: m.page_size_log2.map_or(16, |p| p as u8),
    }
}

pub(crate) fn global_type(g: &wp::GlobalType) -> GlobalType {
    GlobalType {
        content: val_type(g.content_type),
        mutable: g.mutable,
    }
}
