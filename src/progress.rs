//! The progress bar of a scan on a terminal: a spinner with the files found
//! while the walk is counting, then a bar over the files found, with bytes
//! read, the rate, the time left and the inputs that could not be read.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{HumanBytes, ProgressBar, ProgressStyle};

use crate::scan::Progress;

const COUNTING: &str = "{spinner} {pos} files  {elapsed}  {msg}";
const BAR: &str = "{wide_bar} {pos}/{len} files {percent}% · {msg} · ETA {eta}";

/// Draws `progress` on stderr until `scanning` turns false, then clears the line.
pub(crate) fn show(progress: &Progress, scanning: &AtomicBool) {
    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template(COUNTING).expect("valid template"));
    let started = Instant::now();
    let mut counted = false;
    while scanning.load(Ordering::Relaxed) {
        let done = progress.done.load(Ordering::Relaxed) as u64;
        if !counted && progress.walk_done.load(Ordering::Relaxed) {
            counted = true;
            bar.set_style(
                ProgressStyle::with_template(BAR).expect("valid template").progress_chars("=> "),
            );
        }
        if counted {
            // Mailbox messages come after the files: the total grows with them.
            bar.set_length((progress.found.load(Ordering::Relaxed) as u64).max(done));
        }
        bar.set_position(done);
        bar.set_message(status(progress, started.elapsed()));
        bar.tick();
        std::thread::sleep(Duration::from_millis(150));
    }
    bar.finish_and_clear();
}

/// "12.5 MiB, 4.1 MiB/s, 3 errors" (the bytes of the files done)
fn status(progress: &Progress, elapsed: Duration) -> String {
    let bytes = progress.bytes.load(Ordering::Relaxed);
    let rate = (bytes as f64 / elapsed.as_secs_f64().max(0.001)) as u64;
    let errors = progress.errors.load(Ordering::Relaxed);
    format!(
        "{}, {}/s, {errors} error{}",
        HumanBytes(bytes),
        HumanBytes(rate),
        if errors == 1 { "" } else { "s" }
    )
}
