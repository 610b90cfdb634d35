//! The syntax tree: what was written, with a byte span on every node.
//!
//! Nothing here is resolved or validated beyond the grammar; the checker turns it into
//! [`crate::check::Model`].

use std::fmt;

pub use compact_str::CompactString;

/// A byte range in the source text. Small and `Copy` so every node can carry one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        // Sources are capped well below 4 GiB by the CLI, so the casts cannot truncate.
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    /// The smallest span that covers both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    pub fn is_empty(self) -> bool {
        self.end == self.start
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(s: Span) -> Self {
        (s.start as usize, s.len()).into()
    }
}

/// A name as written, e.g. a block name, an attribute key or an env key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ident {
    pub text: CompactString,
    pub span: Span,
}

impl fmt::Display for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

// A big file has hundreds of thousands of these: a field that grows them shows in the memory
// benchmark (`bench/run.py`), so their sizes are pinned here.
#[cfg(target_pointer_width = "64")]
const _NODE_SIZES: () = assert!(
    size_of::<Ident>() == 32
        && size_of::<Value>() == 40
        && size_of::<Attr>() == 72
        && size_of::<Entry>() == 72
);

/// A whole `.stack` file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct File {
    pub items: Vec<Item>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Block(Block),
    Firewall(Firewall),
}

impl Item {
    pub fn span(&self) -> Span {
        match self {
            Item::Block(b) => b.span,
            Item::Firewall(f) => f.span,
        }
    }
}

/// `KIND NAME { entries }`.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub kind: Ident,
    pub name: Ident,
    pub entries: Vec<Entry>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Entry {
    Attr(Attr),
    /// `NAME { attrs }`, e.g. `env { ... }`.
    Nested(Nested),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Nested {
    pub name: Ident,
    pub attrs: Vec<Attr>,
    pub span: Span,
}

/// `key = value`.
#[derive(Clone, Debug, PartialEq)]
pub struct Attr {
    pub key: Ident,
    pub value: Value,
}

impl Attr {
    /// From the key to the end of the value (not stored: a big file has many attributes).
    pub fn span(&self) -> Span {
        self.key.span.to(self.value.span)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Value {
    pub kind: ValueKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ValueKind {
    /// A string literal, escapes already decoded.
    Str(CompactString),
    Int(u64),
    Bool(bool),
    /// `128 MiB` (the parser reports every other spelling of a unit).
    Size {
        amount: u64,
        unit: SizeUnit,
    },
    /// `80:80/tcp`, `8080/udp`: host port, container port, protocol as written (boxed, as
    /// the rarer part: it would make every value of a big file 16 bytes larger).
    Port {
        host: u64,
        container: u64,
        protocol: Option<Box<Ident>>,
    },
    /// `10.0.0.0/16`, as written; validated by the checker.
    Cidr(CompactString),
    /// A bare word: `managed`, `ecs`, `internet`, or a name in a list.
    Word(CompactString),
    /// `store.attribute`, boxed: two names inline would make every value twice as large.
    Ref(Box<Reference>),
    /// `secret("VAR")`: the variable's name and where it is written (boxed, as it is rare).
    Secret(Box<Ident>),
    List(Vec<Value>),
    /// A value the parser already reported (a number too large): the checker accepts it
    /// silently, so that one mistake gives one diagnostic.
    Invalid,
}

impl ValueKind {
    /// How the value's type is called in messages ("expected a size, found a string").
    pub fn describe(&self) -> &'static str {
        match self {
            ValueKind::Str(_) => "a string",
            ValueKind::Int(_) => "an integer",
            ValueKind::Bool(_) => "a boolean",
            ValueKind::Size { .. } => "a size",
            ValueKind::Port { .. } => "a port mapping",
            ValueKind::Cidr(_) => "a CIDR block",
            ValueKind::Word(_) => "a word",
            ValueKind::Ref(_) => "a reference",
            ValueKind::Secret(_) => "a secret(...)",
            ValueKind::List(_) => "a list",
            ValueKind::Invalid => "an invalid value",
        }
    }
}

/// The units a size is written in: binary ones, spelled exactly so.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SizeUnit {
    KiB,
    MiB,
    GiB,
    TiB,
}

impl SizeUnit {
    /// The unit's exact spelling, or else the unit that was probably meant.
    pub fn parse(written: &str) -> Result<SizeUnit, SizeUnit> {
        let meant = match written.chars().next() {
            Some('K' | 'k') => SizeUnit::KiB,
            Some('M' | 'm') => SizeUnit::MiB,
            Some('G' | 'g') => SizeUnit::GiB,
            _ => SizeUnit::TiB,
        };
        if written == meant.as_str() {
            Ok(meant)
        } else {
            Err(meant)
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SizeUnit::KiB => "KiB",
            SizeUnit::MiB => "MiB",
            SizeUnit::GiB => "GiB",
            SizeUnit::TiB => "TiB",
        }
    }

    /// How many KiB one of this unit is.
    pub fn kib(self) -> u64 {
        match self {
            SizeUnit::KiB => 1,
            SizeUnit::MiB => 1 << 10,
            SizeUnit::GiB => 1 << 20,
            SizeUnit::TiB => 1 << 30,
        }
    }
}

impl fmt::Display for SizeUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `store.attribute` (`db.host`).
#[derive(Clone, Debug, PartialEq)]
pub struct Reference {
    pub target: Ident,
    pub attr: Ident,
}

/// `firewall { rules }`.
#[derive(Clone, Debug, PartialEq)]
pub struct Firewall {
    pub rules: Vec<FirewallRule>,
    pub keyword: Span,
    pub span: Span,
}

/// `allow SUBJECTS from SOURCES [to TARGET]`; the checker decides which form it is.
#[derive(Clone, Debug, PartialEq)]
pub struct FirewallRule {
    pub subjects: Vec<Value>,
    pub sources: Vec<Value>,
    pub target: Option<Ident>,
    pub span: Span,
}
