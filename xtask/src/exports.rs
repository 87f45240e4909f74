//! Keeps only the exports an HTTP filter needs in the plugin module.
//!
//! The proxy-wasm SDK exports every callback of the ABI, and Envoy's Wasm host
//! (proxy-wasm-cpp-host) calls each one the module exports: for every request it enters
//! the VM for `proxy_on_log` and `proxy_on_done` although the plugin does nothing there.
//! A callback the module does not export is skipped by the host with the ABI's default
//! (continue; done), so removing the unused ones changes no behaviour, saves two VM
//! entries per request (about 0.6 µs of Envoy CPU, BENCHMARKS.md), and lets `wasm-opt`
//! drop the SDK's network-filter, gRPC and HTTP-call dispatch (about 10 KB).

/// The exports kept: the memory, WASI's reactor entry, the ABI version marker, and the
/// callbacks the plugin implements (VM start, configure, stream creation, request and
/// response headers, stream deletion, which frees the SDK's context) plus the allocator
/// the host writes header maps through.
pub const KEPT: [&str; 10] = [
    "memory",
    "_initialize",
    "proxy_abi_version_0_2_1",
    "proxy_on_memory_allocate",
    "proxy_on_vm_start",
    "proxy_on_configure",
    "proxy_on_context_create",
    "proxy_on_request_headers",
    "proxy_on_response_headers",
    "proxy_on_delete",
];

const MAGIC: [u8; 8] = [0, b'a', b's', b'm', 1, 0, 0, 0];
const EXPORT_SECTION: u8 = 7;

/// `module` with its export section reduced to the names in `keep`; every other byte
/// as it was. Fails on anything that is not a well-formed WebAssembly 1.0 binary.
pub fn keep_only(module: &[u8], keep: &[&str]) -> Result<Vec<u8>, String> {
    let mut reader = Reader { bytes: module, at: 0 };
    if reader.take(MAGIC.len())? != MAGIC {
        return Err("not a WebAssembly 1.0 module".into());
    }
    let mut out = MAGIC.to_vec();
    while !reader.done() {
        let id = reader.byte()?;
        let size = reader.leb()? as usize;
        let body = reader.take(size)?;
        let body = if id == EXPORT_SECTION {
            filter_exports(body, keep)?
        } else {
            body.to_vec()
        };
        out.push(id);
        write_leb(&mut out, body.len() as u32);
        out.extend_from_slice(&body);
    }
    Ok(out)
}

/// The names a module exports, in order.
pub fn names(module: &[u8]) -> Result<Vec<String>, String> {
    let mut reader = Reader { bytes: module, at: 0 };
    if reader.take(MAGIC.len())? != MAGIC {
        return Err("not a WebAssembly 1.0 module".into());
    }
    while !reader.done() {
        let id = reader.byte()?;
        let size = reader.leb()? as usize;
        let body = reader.take(size)?;
        if id == EXPORT_SECTION {
            return exports(body).map(|list| list.into_iter().map(|(name, _)| name).collect());
        }
    }
    Ok(Vec::new())
}

/// Each export's name and its encoded bytes (name, kind, index).
fn exports(section: &[u8]) -> Result<Vec<(String, &[u8])>, String> {
    let mut reader = Reader {
        bytes: section,
        at: 0,
    };
    let count = reader.leb()?;
    let mut list = Vec::new();
    for _ in 0..count {
        let start = reader.at;
        let length = reader.leb()? as usize;
        let name = std::str::from_utf8(reader.take(length)?)
            .map_err(|_| "an export name is not UTF-8")?
            .to_string();
        reader.byte()?;
        reader.leb()?;
        list.push((name, &section[start..reader.at]));
    }
    if !reader.done() {
        return Err("trailing bytes in the export section".into());
    }
    Ok(list)
}

fn filter_exports(section: &[u8], keep: &[&str]) -> Result<Vec<u8>, String> {
    let kept: Vec<&[u8]> = exports(section)?
        .into_iter()
        .filter(|(name, _)| keep.contains(&name.as_str()))
        .map(|(_, bytes)| bytes)
        .collect();
    let mut out = Vec::new();
    write_leb(&mut out, kept.len() as u32);
    kept.iter().for_each(|bytes| out.extend_from_slice(bytes));
    Ok(out)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn done(&self) -> bool {
        self.at >= self.bytes.len()
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|&end| end <= self.bytes.len());
        let end = end.ok_or("the module ends inside a section")?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn byte(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    /// An unsigned LEB128 of at most 32 bits.
    fn leb(&mut self) -> Result<u32, String> {
        let mut value = 0u32;
        for shift in (0..35).step_by(7) {
            let byte = self.byte()?;
            value |= u32::from(byte & 0x7f).checked_shl(shift).unwrap_or(0);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err("an integer longer than 5 bytes".into())
    }
}

fn write_leb(out: &mut Vec<u8>, mut value: u32) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module with a type section, three function exports and a custom section after.
    fn module(exports: &[&str]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&[1, 4, 1, 0x60, 0, 0]); // type section: one () -> ()
        let mut section = Vec::new();
        write_leb(&mut section, exports.len() as u32);
        for (index, name) in exports.iter().enumerate() {
            write_leb(&mut section, name.len() as u32);
            section.extend_from_slice(name.as_bytes());
            section.push(0);
            write_leb(&mut section, index as u32 + 200);
        }
        out.push(EXPORT_SECTION);
        write_leb(&mut out, section.len() as u32);
        out.extend_from_slice(&section);
        out.extend_from_slice(&[0, 3, 1, b'x', 9]); // custom section "x"
        out
    }

    #[test]
    fn unlisted_exports_are_removed_and_every_other_section_kept() {
        let input = module(&[
            "proxy_on_log",
            "proxy_on_request_headers",
            "proxy_on_done",
            "memory",
        ]);
        let output = keep_only(&input, &["memory", "proxy_on_request_headers"]).unwrap();
        assert_eq!(names(&output).unwrap(), ["proxy_on_request_headers", "memory"]);
        // The kept entries keep their indices (201 and 203, as LEB128).
        let expected = module(&["proxy_on_request_headers", "memory"]);
        assert_eq!(output.len(), expected.len());
        assert!(output.windows(2).any(|w| w == [0xc9, 0x01]));
        assert!(output.windows(2).any(|w| w == [0xcb, 0x01]));
        assert_eq!(&output[..14], &input[..14]);
        assert_eq!(&output[output.len() - 5..], &input[input.len() - 5..]);
    }

    #[test]
    fn filtering_twice_gives_the_same_bytes() {
        let once = keep_only(&module(&["a", "b", "c"]), &["b"]).unwrap();
        assert_eq!(keep_only(&once, &["b"]).unwrap(), once);
    }

    #[test]
    fn a_truncated_module_is_refused() {
        let input = module(&["a"]);
        assert!(keep_only(&input[..input.len() - 3], &["a"]).is_err());
        assert!(keep_only(b"\0asm\x02\0\0\0", &["a"]).is_err());
    }
}
