//! Whether Kubernetes will store an object `emit` writes.
//!
//! A WasmPlugin or an EnvoyFilter carries the whole program (base64, a third larger than
//! the bytecode), and Kubernetes keeps every object in etcd, which by default refuses a
//! request over 1.5 MiB (`--max-request-bytes`, 1 572 864 bytes; managed clusters rarely
//! let it be raised). A route table of about 10 000 rules in Istio form already makes a
//! WasmPlugin larger than that (BENCHMARKS.md, *Size*), and `kubectl apply` or a GitOps
//! sync would then fail with "etcdserver: request is too large". The artifact is still
//! valid, so `emit` writes it and warns, naming the object and its size.
//!
//! The size counted is the YAML `emit` writes; the object as stored (JSON or protobuf)
//! is about as large, since the base64 program is nearly all of it.

use super::yaml::Node;

/// etcd's default `--max-request-bytes`.
pub const ETCD_DEFAULT_MAX_REQUEST_BYTES: usize = 1_572_864;

/// A warning for each object of `objects` (kind and name, and the object) whose YAML is
/// larger than `limit` bytes.
pub fn warnings(objects: &[(&str, &str, &Node)], limit: usize) -> Vec<String> {
    objects
        .iter()
        .filter_map(|(kind, name, node)| {
            let size = node.to_yaml().len();
            (size > limit).then(|| {
                format!(
                    "warning: {kind} {name} is {size} bytes, over the {limit} bytes etcd stores by \
                     default (--max-request-bytes), so Kubernetes is likely to refuse it; emit \
                     with --compress (about a third of the size), split the routes over several \
                     Gateways, or raise the cluster's limit"
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::yaml::yaml_map;

    #[test]
    fn an_object_over_the_etcd_limit_is_named_with_its_size() {
        let small = yaml_map! { "kind" => "WasmPlugin", "config" => "x".repeat(100) };
        let large = yaml_map! { "kind" => "WasmPlugin", "config" => "x".repeat(2_000) };
        let objects = [
            ("WasmPlugin", "ns/small", &small),
            ("WasmPlugin", "ns/large", &large),
        ];
        let found = warnings(&objects, 1_000);
        assert_eq!(found.len(), 1);
        assert!(found[0].contains("WasmPlugin ns/large is 20"), "{}", found[0]);
        assert!(found[0].contains("over the 1000 bytes"), "{}", found[0]);
        assert!(warnings(&objects, 10_000).is_empty());
    }
}
