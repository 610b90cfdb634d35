//! The contract every AWS resource type of the plan follows, and the typed values it is made of.
//!
//! A resource type is one struct, written once with [`desired!`](crate::desired): its fields are
//! the parameters of the API call that creates it (named as the API names them, so `plan.json`
//! reads like the call), and each field declares, next to it, how a change of its value is made
//! ([`Change`]) and whether it is sensitive. The struct has two stages: [`Planned`], where a
//! value may still be a reference to another step's output or a secret ([`Val`]), as `lower`
//! builds it and `plan.json` shows it; and [`Live`], where every value is known, as the executor
//! hands it to AWS and as refresh reads it back. The generic diff reads the declarations; the
//! executor reads [`Resource`]'s constants; nothing else knows a resource's fields.

use std::fmt;
use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::policy::{Grant, Scope};
use super::resources::Kind;

/// What a field's value may be: plain data that serialises to and from JSON.
pub trait Plain:
    Serialize + DeserializeOwned + Clone + fmt::Debug + PartialEq + Send + Sync + 'static
{
}
impl<T> Plain for T where
    T: Serialize + DeserializeOwned + Clone + fmt::Debug + PartialEq + Send + Sync + 'static
{
}

/// The stage of a resource struct: what a field that may be known late holds.
pub trait Stage: Clone + fmt::Debug + Default + PartialEq + Send + Sync + 'static {
    type Of<T: Plain>: Plain;
}

/// As planned: a value may be a reference or a secret (`plan.json`). (The stage markers are
/// (de)serialisable so that serde's derived bounds on nested generic structs hold.)
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Planned;

/// As applied or read back: every value is known.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Live;

impl Stage for Planned {
    type Of<T: Plain> = Val<T>;
}

impl Stage for Live {
    type Of<T: Plain> = T;
}

/// A planned value: known now, known after another step ran, or read from the deployer's
/// environment at apply time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Val<T> {
    /// `{"ref": "STEP.attr"}`.
    Ref {
        #[serde(rename = "ref")]
        target: Ref,
    },
    /// `{"secret": "VAR"}`: never the value itself.
    Secret {
        secret: String,
    },
    Lit(T),
}

impl<T> From<T> for Val<T> {
    fn from(t: T) -> Val<T> {
        Val::Lit(t)
    }
}

impl<T> Val<T> {
    pub fn secret(var: impl Into<String>) -> Val<T> {
        Val::Secret { secret: var.into() }
    }
}

/// The variable of a [`Val::Secret`] in its JSON form, `{"secret": "VAR"}`; the one place
/// that form is recognised.
pub fn secret_var(v: &serde_json::Value) -> Option<&str> {
    match v {
        serde_json::Value::Object(m) if m.len() == 1 => m.get("secret")?.as_str(),
        _ => None,
    }
}

/// `STEP.attr`: attribute `attr` of the outputs of step `STEP` (the attribute is the part after
/// the last dot).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Ref(String);

impl Ref {
    /// The step referred to and the attribute.
    pub fn parts(&self) -> (&str, &str) {
        self.0.rsplit_once('.').unwrap_or((&self.0, ""))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An output of a resource type `R`, of type `T`: what later steps may refer to. Declared as
/// constants in the resource's file, so that a reference names an output its type has.
pub struct Output<R, T> {
    name: &'static str,
    _of: PhantomData<fn() -> (R, T)>,
}

impl<R, T> Clone for Output<R, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<R, T> Copy for Output<R, T> {}

impl<R, T: Serialize> Output<R, T> {
    pub const fn new(name: &'static str) -> Output<R, T> {
        Output {
            name,
            _of: PhantomData,
        }
    }

    pub fn name(self) -> &'static str {
        self.name
    }

    /// Records the output's value.
    pub fn set(self, outputs: &mut Outputs, value: T) {
        outputs.insert(
            self.name.to_string(),
            serde_json::to_value(value).unwrap_or(Value::Null),
        );
    }
}

/// A step's outputs, by output name.
pub type Outputs = Map<String, Value>;

/// A planned step of resource type `R`, as the plan builder hands it out: references to its
/// outputs are typed.
pub struct Handle<R> {
    id: String,
    _of: PhantomData<fn() -> R>,
}

impl<R> Handle<R> {
    pub(crate) fn new(id: impl Into<String>) -> Handle<R> {
        Handle {
            id: id.into(),
            _of: PhantomData,
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// A reference to output `out` of this step.
    pub fn get<T: Serialize>(&self, out: Output<R, T>) -> Val<T> {
        Val::Ref {
            target: Ref(format!("{}.{}", self.id, out.name)),
        }
    }
}

/// How a change of a field's value is made on a resource that exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// The field names the resource: refresh finds it by this value, so a new value is another
    /// resource (created, while the old one is deleted as no longer in the program).
    Identity,
    /// Changed in place.
    Update,
    /// Changed in place; a list compared as a set (order and duplicates do not count).
    Set,
    /// A JSON document (an IAM policy, as text or as JSON), compared as JSON; changed in place.
    Document,
    /// Security group rules, compared rule by rule without their descriptions; changed in place.
    Rules,
    /// Elastic Beanstalk option settings: each listed option must hold its value (AWS's other
    /// options are its own); see [`OptionRules`].
    Options(OptionRules),
    /// An engine version: upgrades in place, downgrades by replacement; `16` matches `16.4`.
    Version,
    /// A number that grows in place and shrinks by replacement (RDS storage).
    Grow,
    /// Cannot be changed in place: a new value replaces the resource.
    Replace,
    /// Not compared, for the reason given (write-only, set at creation by our own convention,
    /// or derived from another field).
    Ignore(&'static str),
}

impl Change {
    /// Whether a new value is made in place (by the type's update).
    pub fn in_place(self) -> bool {
        match self {
            Change::Update
            | Change::Set
            | Change::Document
            | Change::Rules
            | Change::Options(_)
            | Change::Version
            | Change::Grow => true,
            Change::Identity | Change::Replace | Change::Ignore(_) => false,
        }
    }
}

/// How a list of Elastic Beanstalk option settings is compared.
#[derive(Clone, Copy, Debug)]
pub struct OptionRules {
    /// Options of namespaces starting with this (environment properties) that exist but that
    /// no step of the plan sets any more are removed.
    pub prune: Option<&'static str>,
    /// Options (`namespace/name`) that AWS sets only at creation: a new value replaces.
    pub replace: &'static [&'static str],
    /// An option's value in the form compared (AWS answers in its own forms: a role's ARN for
    /// the name it was given, ...), given the option's `namespace/name`.
    pub normalize: fn(&str, &str) -> String,
}

/// Two rules are alike when they prune and replace alike (a normaliser is code).
impl PartialEq for OptionRules {
    fn eq(&self, other: &OptionRules) -> bool {
        (self.prune, self.replace) == (other.prune, other.replace)
    }
}
impl Eq for OptionRules {}

/// One field of a resource type: its name in the API (and in `plan.json`) and how it changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub change: Change,
    /// Never shown: a plan prints `(sensitive)` for its old and new value.
    pub sensitive: bool,
}

/// The fields of a resource type, from its [`desired!`](crate::desired) declaration.
pub trait Schema {
    const FIELDS: &'static [Field];
    /// The same struct with every value known.
    type Live: Plain;
}

/// What the executor and the diff need to know of a resource type beyond its fields.
pub trait Resource: Schema + Plain {
    /// The API call that creates it, as IAM names it: `plan.json`'s `action`.
    const ACTION: &'static str;
    /// The kinds of resource it uses: it is deleted before them.
    const USES: &'static [Kind];
    /// A lookup owns nothing: refresh reads it, or apply does when refresh could not.
    const LOOKUP: bool = false;
    /// A step that may go into the creation call of a step of another kind it depends on,
    /// when everything else it needs is ready by then: that kind, and the list field of both
    /// whose items are appended (one call and one wait less on the critical path).
    const FOLDS_INTO: Option<(Kind, &'static str)> = None;
    /// How a plan names its creation and its update.
    const VERBS: (&'static str, &'static str) = ("create", "update");
    /// Why it is updated, when its type can say so in words.
    const UPDATE_REASON: Option<&'static str> = None;
    /// Why it is created, when that is not simply that it does not exist yet.
    const CREATE_REASON: Option<&'static str> = None;

    /// Every IAM action its code calls (reads, writes, deletes), and those AWS requires of
    /// the caller for them (`iam:PassRole` to hand a role to Elastic Beanstalk, ...).
    const ACTIONS: &'static [&'static str];

    /// The actions on the narrowest resources AWS allows, for the program's steps of this type
    /// (`steps`, possibly none: refresh still reads to find what an earlier apply made).
    fn grants(scope: &Scope<'_>, steps: &[&Self]) -> Vec<Grant> {
        let _ = (scope, steps);
        vec![Grant::anywhere(Self::ACTIONS)]
    }

    /// Why a replacement must not happen automatically, given what exists and what the plan
    /// wants (with its references resolved as far as they can be): apply refuses it before
    /// any change. `None`: replace.
    fn refuse_replacement(_current: &Map<String, Value>, _want: &Value) -> Option<String> {
        None
    }

    /// Why destroy keeps what exists (and what it stands on), given what it found and how
    /// destroy was asked: a database with deletion protection, a repository's images. None:
    /// destroy deletes it. An orphan (no longer in the program) is asked with no fields, and
    /// one that is kept is not deleted by apply either.
    fn kept_by_destroy(_current: &Map<String, Value>, _options: &DestroyOptions) -> Option<String> {
        None
    }
}

/// How `stackc destroy` was asked to treat what holds data.
#[derive(Clone, Copy, Debug, Default)]
pub struct DestroyOptions {
    /// `--delete-images`: the ECR repositories go too, with their images.
    pub delete_images: bool,
}

/// Tags as the AWS APIs take them: `[{"Key", "Value"}]`.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Tags(pub Vec<Tag>);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    #[serde(rename = "Key")]
    pub key: String,
    #[serde(rename = "Value")]
    pub value: String,
}

impl Tags {
    /// The tags of a resource of `stack` made for the block (or role) `name`.
    pub fn of(stack: &str, name: &str) -> Tags {
        Tags(vec![
            Tag {
                key: crate::naming::TAG_STACK.into(),
                value: stack.into(),
            },
            Tag {
                key: crate::naming::TAG_NAME.into(),
                value: name.into(),
            },
        ])
    }

    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|t| (t.key.as_str(), t.value.as_str()))
    }
}

/// Tags as the JSON APIs of CloudWatch Logs take them: `{"Key": "Value"}`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TagMap(pub Tags);

impl Serialize for TagMap {
    fn serialize<Se: serde::Serializer>(&self, s: Se) -> Result<Se::Ok, Se::Error> {
        s.collect_map(self.0.pairs())
    }
}

impl<'de> Deserialize<'de> for TagMap {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<TagMap, D::Error> {
        let map = std::collections::BTreeMap::<String, String>::deserialize(d)?;
        Ok(TagMap(Tags(
            map.into_iter()
                .map(|(key, value)| Tag { key, value })
                .collect(),
        )))
    }
}

/// Whose resources a deploy may change: those tagged with the stack, and in a file with several
/// environments, also with the one environment (`stackc:env`); nothing else is ever changed
/// or deleted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    pub stack: String,
    pub env: Option<String>,
}

impl Owner {
    /// Whether tags (as key/value pairs) mark a resource of this owner.
    pub fn owns<'a>(&self, tags: impl IntoIterator<Item = (&'a str, &'a str)>) -> bool {
        let (mut stack, mut env) = (false, self.env.is_none());
        for (k, v) in tags {
            stack |= k == crate::naming::TAG_STACK && v == self.stack;
            env |= k == crate::naming::TAG_ENV && Some(v) == self.env.as_deref();
        }
        stack && env
    }
}

impl std::fmt::Display for Owner {
    /// The tags, as a message names them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{} = {}`", crate::naming::TAG_STACK, self.stack)?;
        if let Some(env) = &self.env {
            write!(f, " and `{} = {env}`", crate::naming::TAG_ENV)?;
        }
        Ok(())
    }
}

/// The value of tag `stackc:name`, if any.
pub fn tag_name<'a>(tags: impl IntoIterator<Item = (&'a str, &'a str)>) -> Option<&'a str> {
    tags.into_iter()
        .find(|(k, _)| *k == crate::naming::TAG_NAME)
        .map(|(_, v)| v)
}

/// Engine and platform versions, compared number by number (`4.10.2` after `4.9.0`).
pub mod version {
    use std::cmp::Ordering;

    fn key(v: &str) -> Vec<u64> {
        v.split('.').map(|p| p.parse().unwrap_or(0)).collect()
    }

    pub fn cmp(a: &str, b: &str) -> Ordering {
        key(a).cmp(&key(b))
    }

    /// Whether the version running (`have`) is what the program asks for: `16` is satisfied
    /// by `16.4`.
    pub fn satisfies(have: &str, want: &str) -> bool {
        have == want || have.starts_with(&format!("{want}."))
    }

    /// The major version: `16` of `16.4`.
    pub fn major(v: &str) -> u64 {
        key(v).first().copied().unwrap_or(0)
    }
}

/// Declares a resource type: the struct (both stages, serde names as the API's) and its
/// schema, each field with its [`Change`] next to it. A field cannot be added without deciding
/// how it changes.
///
/// ```ignore
/// desired! {
///     /// The parameters of CreateDBSubnetGroup.
///     pub struct DbSubnetGroup<S> {
///         #[field("DBSubnetGroupName", Identity)]
///         pub name: String,
///         #[field("SubnetIds", Set)]
///         pub subnets: S::Of<Vec<String>>,
///     }
/// }
/// ```
#[macro_export]
macro_rules! desired {
    // A struct whose values may be known late: generic over its stage.
    (
        $(#[$meta:meta])*
        pub struct $name:ident<S> {
            $(
                $(#[doc = $doc:expr])*
                #[field($aws:literal, $change:ident $(($($arg:tt)*))? $(, $flag:ident)?)]
                $(#[serde($($serde:tt)*)])*
                pub $field:ident : $ty:ty,
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
        pub struct $name<S: $crate::deploy::resource::Stage = $crate::deploy::resource::Planned> {
            $(
                $(#[doc = $doc])*
                #[serde(rename = $aws)]
                $(#[serde($($serde)*)])*
                pub $field: $ty,
            )*
        }

        impl $crate::deploy::resource::Schema for $name<$crate::deploy::resource::Planned> {
            $crate::desired!(@fields $($aws, $change $(($($arg)*))? $(, $flag)?;)*);
            type Live = $name<$crate::deploy::resource::Live>;
        }
    };
    // A struct whose values are all known when the plan is made: one stage.
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[doc = $doc:expr])*
                #[field($aws:literal, $change:ident $(($($arg:tt)*))? $(, $flag:ident)?)]
                $(#[serde($($serde:tt)*)])*
                pub $field:ident : $ty:ty,
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
        pub struct $name {
            $(
                $(#[doc = $doc])*
                #[serde(rename = $aws)]
                $(#[serde($($serde)*)])*
                pub $field: $ty,
            )*
        }

        impl $crate::deploy::resource::Schema for $name {
            $crate::desired!(@fields $($aws, $change $(($($arg)*))? $(, $flag)?;)*);
            type Live = $name;
        }
    };
    (@fields $($aws:literal, $change:ident $(($($arg:tt)*))? $(, $flag:ident)?;)*) => {
        const FIELDS: &'static [$crate::deploy::resource::Field] = &[
            $(
                $crate::deploy::resource::Field {
                    name: $aws,
                    change: $crate::deploy::resource::Change::$change $(($($arg)*))?,
                    sensitive: $crate::desired!(@sensitive $($flag)?),
                },
            )*
        ];
    };
    (@sensitive) => { false };
    (@sensitive sensitive) => { true };
}
