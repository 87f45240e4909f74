//! Envoy's CPU time, read from `/proc`: the whole process (every thread), user and
//! system. Measuring CPU rather than wall time keeps the figures meaningful on a machine
//! other jobs share.

use std::io;

/// `/proc` reports `utime` and `stime` in clock ticks of `USER_HZ`, which Linux fixes
/// at 100 for user space whatever the kernel's own tick.
const NANOS_PER_TICK: u64 = 10_000_000;

/// utime + stime of process `pid` (all its threads), in nanoseconds (10 ms resolution).
pub fn process_cpu_stat(pid: u32) -> io::Result<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name may hold spaces: fields are counted after its closing `)`.
    let after = text
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no ) in /proc/PID/stat"))?;
    // After `)`: state is field 3, utime field 14, stime field 15.
    let fields: Vec<&str> = after.split_whitespace().collect();
    let field = |n: usize| -> io::Result<u64> {
        fields
            .get(n - 3)
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, format!("field {n} of /proc/PID/stat")))
    };
    Ok((field(14)? + field(15)?) * NANOS_PER_TICK)
}

/// Time on CPU of every thread of `pid`, in nanoseconds, from the scheduler
/// (`/proc/PID/task/*/schedstat`, first field): fine-grained, used to size runs.
pub fn process_cpu_sched(pid: u32) -> io::Result<u64> {
    let mut total = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let path = task?.path().join("schedstat");
        // A thread may end between the listing and the read.
        if let Ok(text) = std::fs::read_to_string(path) {
            total += text
                .split_whitespace()
                .next()
                .and_then(|f| f.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    Ok(total)
}
