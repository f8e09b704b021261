use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = renfang::cli::Cli::parse();
    renfang::telemetry::init();
    match renfang::cli::run(args).await {
        Ok(code) => code,
        Err(err) => {
            eprintln!("错误 error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
