//! A Linux core as the CLR reader's [`Target`].

use heaplens_bytes::ReadAt;
use heaplens_clr::{SymbolSource, Target, TargetModule, TargetThread};
use heaplens_elfcore::ElfCore;

/// Symbol lookup in the core's modules (their dynamic symbol tables, read
/// from the process's memory).
pub struct ElfSymbols<'a, R>(pub &'a ElfCore<R>);

impl<R: ReadAt> SymbolSource for ElfSymbols<'_, R> {
    fn find_symbol(&self, module: &TargetModule, name: &str) -> Option<u64> {
        let m = self.0.modules().iter().find(|m| m.path == module.path)?;
        self.0.find_symbol(m, name)
    }
}

/// The process in `core`, as the CLR reader sees it.
pub fn target<'a, R: ReadAt>(core: &'a ElfCore<R>, symbols: &'a ElfSymbols<'a, R>) -> Target<'a> {
    Target {
        memory: core.memory(),
        modules: core
            .modules()
            .iter()
            .map(|m| TargetModule {
                path: m.path.clone(),
                start: m.start,
                end: m.end,
                header_addresses: m.header_addresses().collect(),
            })
            .collect(),
        threads: core
            .threads()
            .iter()
            .map(|t| TargetThread {
                id: t.tid,
                registers: t
                    .registers
                    .general_purpose()
                    .into_iter()
                    .map(|(_, v)| v)
                    .collect(),
                stack_pointer: t.stack_pointer(),
                stack_end: None,
            })
            .collect(),
        symbols,
    }
}
