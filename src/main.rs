fn main() {
    std::process::exit(play::run(std::env::args_os().collect()));
}
