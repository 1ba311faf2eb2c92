//! Type names from the ECMA-335 metadata of the loaded images.

use crate::runtime::RuntimeModule;
use crate::target::Target;
use crate::walk::MethodTables;

/// The name of one MethodTable's type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeName {
    /// The name in the runtime's TypeString format, or, when metadata is
    /// not available, `MethodTable 0x…` with the module and token.
    pub name: String,
    /// The module (assembly) defining the type, when known.
    pub module: Option<String>,
}

/// How naming went.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NamingReport {
    /// Types named from metadata.
    pub named: usize,
    /// Types without a name.
    pub unnamed: usize,
    /// Why some types have no name.
    pub notes: Vec<String>,
}

/// Names every MethodTable.
pub fn name_types(
    _target: &Target<'_>,
    _runtime: &RuntimeModule,
    mts: &MethodTables,
) -> (Vec<TypeName>, NamingReport) {
    let names: Vec<TypeName> = mts
        .addresses
        .iter()
        .zip(&mts.tables)
        .map(|(&mt, t)| TypeName {
            name: if t.is_free {
                "Free".to_owned()
            } else {
                format!("MethodTable {mt:#x}")
            },
            module: None,
        })
        .collect();
    let report = NamingReport {
        named: 0,
        unnamed: names.len(),
        notes: vec!["type names are not read yet".into()],
    };
    (names, report)
}
