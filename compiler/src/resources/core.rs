//! Core Kubernetes kinds that routing depends on: Service (which ports exist) and
//! Namespace (labels for `allowedRoutes` selectors).

use super::meta::Meta;
use super::read::{Obj, Read};

#[derive(Debug, Clone)]
pub struct Service {
    pub meta: Meta,
    pub ports: Vec<ServicePort>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicePort {
    pub name: Option<String>,
    pub port: u32,
}

impl Service {
    pub fn read(root: &Obj<'_>, meta: Meta) -> Read<Service> {
        let mut ports = Vec::new();
        if let Some(spec) = root.get("spec") {
            for port in spec.list("ports")? {
                let number = port
                    .int("port", 1, 65535)?
                    .ok_or_else(|| port.error("a Service port needs `port`"))?;
                ports.push(ServicePort {
                    name: port.str("name")?.map(str::to_string),
                    port: number as u32,
                });
            }
        }
        Ok(Service { meta, ports })
    }

    pub fn has_port(&self, port: u32) -> bool {
        self.ports.iter().any(|p| p.port == port)
    }
}

#[derive(Debug, Clone)]
pub struct Namespace {
    pub meta: Meta,
}

impl Namespace {
    pub fn read(_root: &Obj<'_>, meta: Meta) -> Read<Namespace> {
        Ok(Namespace { meta })
    }
}
