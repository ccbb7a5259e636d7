fn main() {
    let args: Vec<String> = std::env::args().collect();
    let engine = runtime::Engine::default();
    let bytes = std::fs::read(&args[1]).unwrap();
    let n: usize = args.get(2).map_or(1, |s| s.parse().unwrap());
    for _ in 0..n {
        let m = runtime::Module::new(&engine, &bytes).unwrap();
        std::hint::black_box(m);
    }
}
