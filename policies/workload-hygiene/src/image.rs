//! Image references: `image-tag`, `image-digest` and `image-pull-policy`.

use counsel_policy::workload::ContainerRef;
use counsel_policy::{Findings, violation};

use crate::Enabled;
use crate::rules::{IMAGE_DIGEST, IMAGE_PULL_POLICY, IMAGE_TAG};

/// How firmly an image reference names its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pinning {
    /// No tag (which means `latest`), or the tag `latest`.
    Mutable,
    /// A tag other than `latest`, no digest.
    Tag,
    /// A digest (`@sha256:...`), with or without a tag.
    Digest,
}

/// An image reference split into its parts:
/// `[registry[:port]/]repository[:tag][@digest]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageRef<'a> {
    /// Registry and repository (`registry.example:5000/team/app`).
    pub name: &'a str,
    /// The tag, if one is given.
    pub tag: Option<&'a str>,
    /// The digest, if one is given.
    pub digest: Option<&'a str>,
}

impl<'a> ImageRef<'a> {
    /// Splits `image`. A `:` before the last `/` belongs to the registry's
    /// port, not to a tag; empty parts count as absent.
    pub fn parse(image: &'a str) -> ImageRef<'a> {
        let (rest, digest) = match image.split_once('@') {
            Some((rest, digest)) => (rest, Some(digest).filter(|d| !d.is_empty())),
            None => (image, None),
        };
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(colon) => {
                let colon = last_slash + colon;
                (
                    &rest[..colon],
                    Some(&rest[colon + 1..]).filter(|t| !t.is_empty()),
                )
            }
            None => (rest, None),
        };
        ImageRef { name, tag, digest }
    }

    /// How firmly the reference is pinned.
    pub fn pinning(&self) -> Pinning {
        match (self.digest, self.tag) {
            (Some(_), _) => Pinning::Digest,
            (None, Some(tag)) if tag != "latest" => Pinning::Tag,
            _ => Pinning::Mutable,
        }
    }
}

const PULL_POLICIES: [&str; 3] = ["Always", "IfNotPresent", "Never"];

/// Checks the container's image and pull policy.
pub fn check(c: &ContainerRef<'_>, enabled: &Enabled, out: &mut Findings) {
    let field = c.node().field("image");
    let image = match field.str(out) {
        Some(image) if !image.is_empty() => image,
        _ => return,
    };
    let reference = ImageRef::parse(image);
    let pinning = reference.pinning();
    let who = c.label();
    if pinning == Pinning::Mutable && enabled.on(&IMAGE_TAG) {
        let message = match reference.tag {
            None => format!("{who} uses image {image:?} without a tag, which means :latest"),
            Some(_) => format!("{who} uses image {image:?}, whose tag moves with every push"),
        };
        out.push(
            violation(&IMAGE_TAG)
                .at(&field)
                .message(message)
                .hint(format!(
                    "Pin a version tag (for example {}:1.2.3) or, better, a digest ({}@sha256:...), \
                     so that a rollout, not a push to the registry, changes what runs.",
                    reference.name, reference.name
                )),
        );
    }
    if pinning == Pinning::Tag && enabled.on(&IMAGE_DIGEST) {
        out.push(
            violation(&IMAGE_DIGEST)
                .at(&field)
                .message(format!(
                    "{who} uses image {image:?}, pinned by tag but not by digest"
                ))
                .hint(format!(
                    "Add the digest the tag points to now: {image}@sha256:<digest> (`crane digest \
                     {image}` or `docker buildx imagetools inspect {image}` prints it). The tag \
                     stays for people to read; the digest decides what runs."
                )),
        );
    }
    if enabled.on(&IMAGE_PULL_POLICY) {
        check_pull_policy(c, image, pinning, out);
    }
}

fn check_pull_policy(c: &ContainerRef<'_>, image: &str, pinning: Pinning, out: &mut Findings) {
    let field = c.node().field("imagePullPolicy");
    let Some(policy) = field.str(out) else {
        return;
    };
    let who = c.label();
    let v = violation(&IMAGE_PULL_POLICY).at(&field);
    if !PULL_POLICIES.contains(&policy) {
        let v = v.message(format!(
            "{who} sets imagePullPolicy {policy:?}; Kubernetes accepts only Always, IfNotPresent \
             or Never"
        ));
        let known = PULL_POLICIES
            .iter()
            .find(|known| known.eq_ignore_ascii_case(policy));
        // The fix must also fit a mutable tag (see below).
        let fixed = match (known, pinning) {
            (Some(&"IfNotPresent"), Pinning::Mutable) => Some("Always"),
            (Some(&"Never"), Pinning::Mutable) => None,
            (known, _) => known.copied(),
        };
        out.push(match fixed {
            Some(known) => v.fix_to(known),
            None => v.hint(
                "Remove imagePullPolicy to get the default (Always for :latest or no tag, \
                 IfNotPresent otherwise), or set one of the three.",
            ),
        });
        return;
    }
    if pinning != Pinning::Mutable {
        return;
    }
    match policy {
        "IfNotPresent" => out.push(
            v.message(format!(
                "{who} pulls {image:?} only when the node does not have it, so each node keeps \
                 whatever it pulled first"
            ))
            .fix_to("Always")
            .hint("Better still, pin a version and keep IfNotPresent."),
        ),
        "Never" => out.push(
            v.message(format!(
                "{who} never pulls {image:?}, so each node runs whatever it already has under \
                 that name"
            ))
            .hint(
                "Pin a version and use IfNotPresent, or use Always. Never works only with images \
                 preloaded on every node (as in a local kind cluster).",
            ),
        ),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_split_into_name_tag_and_digest() {
        let cases = [
            ("nginx", ("nginx", None, None), Pinning::Mutable),
            (
                "nginx:latest",
                ("nginx", Some("latest"), None),
                Pinning::Mutable,
            ),
            ("nginx:", ("nginx", None, None), Pinning::Mutable),
            ("nginx:1.27", ("nginx", Some("1.27"), None), Pinning::Tag),
            (
                "registry.example:5000/team/app",
                ("registry.example:5000/team/app", None, None),
                Pinning::Mutable,
            ),
            (
                "registry.example:5000/team/app:2",
                ("registry.example:5000/team/app", Some("2"), None),
                Pinning::Tag,
            ),
            (
                "app@sha256:abc",
                ("app", None, Some("sha256:abc")),
                Pinning::Digest,
            ),
            (
                "app:latest@sha256:abc",
                ("app", Some("latest"), Some("sha256:abc")),
                Pinning::Digest,
            ),
            ("app@", ("app", None, None), Pinning::Mutable),
        ];
        for (image, (name, tag, digest), pinning) in cases {
            let parsed = ImageRef::parse(image);
            assert_eq!(parsed, ImageRef { name, tag, digest }, "{image}");
            assert_eq!(parsed.pinning(), pinning, "{image}");
        }
    }
}
