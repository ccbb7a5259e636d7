fn main() {
    let args: Vec<String> = std::env::args().collect();
    let engine = runtime::Engine::default();
    let bytes = std::fs::read(&args[1]).unwrap();
    let dir = std::path::Path::new(&args[2]);
    std::fs::create_dir_all(dir).unwrap();
    for (i, clif) in runtime::Module::clif(&engine, &bytes, runtime::ClifStage::Optimized).unwrap()
    {
        std::fs::write(dir.join(format!("{i}.clif")), clif).unwrap();
    }
}
