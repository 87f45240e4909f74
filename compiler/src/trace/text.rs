//! The trace as text, for people.

use core::fmt;

use super::{RuleStep, TraceReport};

impl fmt::Display for TraceReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = &self.request;
        writeln!(
            f,
            "request   {} {}://{}{} (listener port {})",
            r.method, r.scheme, r.authority, r.path, r.port
        )?;
        for (name, value) in &r.headers {
            writeln!(f, "          {name}: {value}")?;
        }
        if let Some(sni) = &r.sni {
            writeln!(f, "          (TLS server name {sni})")?;
        }
        match self.listener {
            Some(port) => writeln!(f, "listener  :{port} (the request's port)")?,
            None => writeln!(f, "listener  none on port {}: 404", r.port)?,
        }
        for vhost in &self.vhosts {
            writeln!(f, "vhost     {} {} ({})", vhost.index, vhost.name, vhost.reason)?;
            for rule in &vhost.rules {
                write_rule(f, rule)?;
            }
        }
        if self.listener.is_some() && self.vhosts.is_empty() {
            if self.decision.rule.is_none() && self.decision.status == Some(421) {
                writeln!(
                    f,
                    "vhost     none: misdirected: the Host belongs to another HTTPS listener on this port than the TLS server name selected"
                )?;
            } else {
                writeln!(
                    f,
                    "vhost     none: no hostname of the listener serves this host and it has no catch-all"
                )?;
            }
        }
        let d = &self.decision;
        match d.kind {
            "forward" => {
                write!(f, "decision  forward to {}", d.cluster.as_deref().unwrap_or("?"))?;
                if let Some(service) = &d.service {
                    write!(f, " (Service {service})")?;
                }
                writeln!(f)?;
            }
            "pass" => writeln!(
                f,
                "decision  pass: no service or route declares this host; the sidecar's own routes take it (passthrough to where the client sent it)"
            )?,
            "redirect" => writeln!(
                f,
                "decision  redirect {} to {}",
                d.status.unwrap_or(0),
                d.location.as_deref().unwrap_or("?")
            )?,
            _ => {
                let why = match (&d.rule, d.status) {
                    (None, Some(421)) => " (misdirected request)",
                    (None, _) => " (no rule matched)",
                    (Some(_), Some(500)) if !d.backends.is_empty() => " (the backend picked did not resolve)",
                    (Some(_), Some(500)) => " (the rule has no backend that resolves)",
                    _ => "",
                };
                writeln!(f, "decision  reply {}{why}", d.status.unwrap_or(0))?;
            }
        }
        if d.backends.len() > 1 {
            let total: u64 = d.backends.iter().map(|(_, w, _)| u64::from(*w)).sum();
            for (name, weight, chosen) in &d.backends {
                let share = if total == 0 {
                    0.0
                } else {
                    f64::from(*weight) * 100.0 / total as f64
                };
                let mark = if *chosen { "  <- this request" } else { "" };
                writeln!(f, "          weight {weight} ({share:.1}%) {name}{mark}")?;
            }
        }
        if let Some(rule) = &d.rule {
            write!(f, "rule      {}", rule.source)?;
            if let Some(location) = &rule.location {
                write!(f, " at {location}")?;
            }
            writeln!(f)?;
        }
        for (i, action) in self.actions.iter().enumerate() {
            let label = if i == 0 { "actions" } else { "" };
            writeln!(f, "{label:<9} {action}")?;
        }
        Ok(())
    }
}

fn write_rule(f: &mut fmt::Formatter<'_>, rule: &RuleStep) -> fmt::Result {
    let location = rule
        .location
        .as_deref()
        .map(|l| format!(" ({l})"))
        .unwrap_or_default();
    writeln!(f, "  #{:<4} {}{location}", rule.entry, rule.source)?;
    match (&rule.failed, rule.verdict) {
        (Some(condition), _) => {
            let value = match &rule.request_value {
                Some(value) => format!("request has {value:?}"),
                None => "request has none".to_string(),
            };
            writeln!(f, "         passed over: {condition}; {value}")
        }
        (None, verdict) => writeln!(f, "         {verdict}"),
    }
}
