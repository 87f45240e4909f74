//! VirtualServices naming an Istio Gateway that is not in the inputs: they bind to no
//! proxy through it, so their rules route nothing there.

use super::finding::{self, Finding, Place};
use crate::diag::Location;
use crate::istio::bind::vs_gateways;
use crate::resources::Resources;

/// One finding per `gateways` entry of a VirtualService that names no Gateway.
pub fn unknown_gateways(resources: &Resources, out: &mut Vec<Finding>) {
    for vs in &resources.virtual_services {
        for key in vs_gateways(vs) {
            if key == "mesh" {
                continue;
            }
            let known = resources.istio_gateways.iter().any(|g| g.meta.key() == key);
            if known {
                continue;
            }
            let message = format!(
                "VirtualService {} spec.gateways names Gateway {key}, which is not in the inputs: \
                 no proxy binds the VirtualService through it",
                vs.meta.key()
            );
            let place = Place::new(
                Some(Location {
                    file: vs.meta.file.clone(),
                    line: vs.meta.line,
                    column: 0,
                }),
                format!("VirtualService {}", vs.meta.key()),
            );
            out.push(Finding::new(finding::DANGLING, "istio", message, place));
        }
    }
}
