//! Echo upstreams: one loopback HTTP/1.1 server per cluster. Each answers 200 with a
//! JSON description of the request and records it, so the engine learns which cluster
//! got a request and what it looked like, and finds mirrored copies (which Envoy sends
//! without waiting for an answer) in the shared log.

use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::http::{read_body, read_head, request_body};

/// The response header naming the log entry of the request answered: it tells a
/// forwarded answer from one the proxy made itself. The engine removes it again.
pub const ECHO_HEADER: &str = "x-switchyard-echo";

/// One request an upstream received.
#[derive(Debug, Clone)]
pub struct Record {
    /// Position in the log.
    pub seq: usize,
    pub cluster: String,
    pub method: String,
    /// The Host header.
    pub authority: String,
    pub path: String,
    /// Lowercase names, in order; without `host`.
    pub headers: Vec<(String, String)>,
}

impl Record {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Every request any upstream received, in arrival order.
#[derive(Debug, Default)]
pub struct Log {
    records: Mutex<Vec<Record>>,
    arrived: Condvar,
}

impl Log {
    fn push(&self, mut record: Record) -> usize {
        let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        record.seq = records.len();
        records.push(record);
        self.arrived.notify_all();
        records.len() - 1
    }

    /// The number of records so far.
    pub fn len(&self) -> usize {
        self.records.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, seq: usize) -> Option<Record> {
        self.records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(seq)
            .cloned()
    }

    /// Waits until `enough` records satisfy `select`, or `timeout` passes; returns the
    /// records that satisfy it then.
    pub fn wait_for(
        &self,
        timeout: Duration,
        select: impl Fn(&Record) -> bool,
        enough: usize,
    ) -> Vec<Record> {
        let deadline = Instant::now() + timeout;
        let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let found: Vec<Record> = records.iter().filter(|r| select(r)).cloned().collect();
            let now = Instant::now();
            if found.len() >= enough || now >= deadline {
                return found;
            }
            records = self
                .arrived
                .wait_timeout(records, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

/// The running upstreams; dropping them stops the accept loops.
#[derive(Debug)]
pub struct Upstreams {
    pub log: Arc<Log>,
    /// Cluster name and address, in the order given.
    pub addresses: Vec<(String, SocketAddr)>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Upstreams {
    /// Starts one server per cluster on 127.0.0.1, on ports the OS picks.
    pub fn start(clusters: &[String]) -> std::io::Result<Self> {
        let log = Arc::new(Log::default());
        let stop = Arc::new(AtomicBool::new(false));
        let mut upstreams = Upstreams {
            log: log.clone(),
            addresses: Vec::new(),
            stop: stop.clone(),
            threads: Vec::new(),
        };
        for cluster in clusters {
            let listener = TcpListener::bind("127.0.0.1:0")?;
            upstreams
                .addresses
                .push((cluster.clone(), listener.local_addr()?));
            let (log, stop, cluster) = (log.clone(), stop.clone(), cluster.clone());
            upstreams.threads.push(std::thread::spawn(move || {
                accept_loop(&listener, &cluster, &log, &stop)
            }));
        }
        Ok(upstreams)
    }
}

impl Drop for Upstreams {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // A connection wakes each accept loop so that it sees the flag.
        for (_, address) in &self.addresses {
            let _ = TcpStream::connect_timeout(address, Duration::from_secs(1));
        }
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

fn accept_loop(listener: &TcpListener, cluster: &str, log: &Arc<Log>, stop: &AtomicBool) {
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let (log, cluster) = (log.clone(), cluster.to_string());
        // Envoy holds few connections (concurrency 1); a thread each keeps this simple.
        // They end when Envoy closes its side, or after a minute of silence.
        std::thread::spawn(move || {
            let _ = serve(stream, &cluster, &log);
        });
    }
}

fn serve(stream: TcpStream, cluster: &str, log: &Log) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    stream.set_nodelay(true)?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    while let Some(head) = read_head(&mut reader)? {
        read_body(&mut reader, request_body(&head)?)?;
        let mut parts = head.start.split(' ');
        let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let record = Record {
            seq: 0,
            cluster: cluster.to_string(),
            method: method.to_string(),
            authority: head.get("host").unwrap_or("").to_string(),
            path: path.to_string(),
            headers: head
                .headers
                .iter()
                .filter(|(n, _)| n != "host")
                .cloned()
                .collect(),
        };
        let body = serde_json::json!({
            "cluster": record.cluster, "method": record.method, "authority": record.authority,
            "path": record.path, "headers": record.headers,
        })
        .to_string();
        let seq = log.push(record);
        let body = if method == "HEAD" { "" } else { body.as_str() };
        // One write per response: several small ones meet Nagle and delayed ACKs.
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{ECHO_HEADER}: {seq}\r\n\r\n{body}",
            body.len()
        );
        writer.write_all(response.as_bytes())?;
        if head.closes() {
            break;
        }
    }
    Ok(())
}
