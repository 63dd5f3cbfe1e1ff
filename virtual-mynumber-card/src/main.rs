//! `virtual-mynumber-card`: a virtual JPKI card in a vpcd reader of a running pcscd,
//! for tests and demos. Serves until killed; reconnects when pcscd restarts.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use virtual_mynumber_card::{Behaviour, ServeOptions, TestPki, VirtualCard, vpcd};

#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// vpcd port: 35963 is the first virtual reader, 35964 the second.
    #[arg(long, default_value_t = vpcd::DEFAULT_PORT)]
    port: u16,
    /// Host where pcscd's vpcd driver listens.
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// The user-authentication PIN (4 digits).
    #[arg(long, default_value = "1234", value_parser = parse_pin)]
    pin: String,
    /// Tries left on the PIN at start (0 = a blocked card).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(0..=3))]
    tries: u8,
    /// The card holder's name (kept beside the certificate for demo rosters).
    #[arg(long, default_value = "見守 花子")]
    holder: String,
    /// Where the CA (`ca.pem`) and the card's certificate (`auth.pem`) are kept;
    /// created if missing, reused if present. Without it the PKI lives in memory.
    #[arg(long)]
    pki_dir: Option<PathBuf>,
    /// Pull the card when this APDU (counted from insertion) arrives.
    #[arg(long)]
    remove_at_apdu: Option<u32>,
    /// After a pull, reinsert the card after this many milliseconds (default: stay out).
    #[arg(long)]
    reinsert_after_ms: Option<u64>,
    /// Delay every response by this many milliseconds (a slow card).
    #[arg(long, default_value_t = 0)]
    delay_ms: u64,
    /// Leave TCP_QUICKACK off (to measure vpcd's delayed-ACK stall).
    #[arg(long)]
    no_quickack: bool,
}

fn parse_pin(s: &str) -> Result<String, String> {
    if s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_owned())
    } else {
        Err("the auth PIN is 4 digits".to_owned())
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let pki = match &args.pki_dir {
        Some(dir) => TestPki::load_or_create(dir, &args.holder)
            .with_context(|| format!("preparing the test PKI in {}", dir.display()))?,
        None => TestPki::generate(&args.holder).context("generating the test PKI")?,
    };
    let behaviour = Behaviour { auth_pin: args.pin.into_bytes(), auth_tries_left: args.tries };
    let mut card = VirtualCard::new(pki.card_contents(), behaviour);
    let options = ServeOptions {
        quickack: !args.no_quickack,
        response_delay: Duration::from_millis(args.delay_ms),
        remove_at_apdu: args.remove_at_apdu,
        reinsert_after: args.reinsert_after_ms.map(Duration::from_millis),
    };
    let addr = SocketAddr::new(args.host, args.port);
    eprintln!("virtual-mynumber-card: serving vpcd at {addr}");
    vpcd::serve(&mut card, addr, &options).with_context(|| format!("serving vpcd at {addr}"))?;
    eprintln!("virtual-mynumber-card: card pulled, exiting");
    Ok(())
}
