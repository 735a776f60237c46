//! What mail providers post: inbound email (a lead's reply) and delivery
//! events (bounces, spam complaints), read from a generic JSON shape or
//! from the shapes SendGrid, Mailgun and Postmark post. Which one a
//! request is in is the last part of the URL configured at the provider.

use serde_json::Value as Json;

/// The shapes flowc reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Shape {
    /// flowc's own, documented in the README.
    Generic,
    /// SendGrid's Inbound Parse (multipart form) and Event Webhook (JSON).
    Sendgrid,
    /// Mailgun's routes (form) and webhooks (JSON).
    Mailgun,
    /// Postmark's inbound and bounce/spam-complaint webhooks (JSON).
    Postmark,
}

/// A request body as posted: JSON, or a form's text fields.
#[derive(Clone, Debug, PartialEq)]
pub enum Posted {
    /// `application/json`.
    Json(Json),
    /// `application/x-www-form-urlencoded` or `multipart/form-data`.
    Form(Vec<(String, String)>),
}

impl Posted {
    /// The string at `path` (JSON: nested keys; a form: the field).
    fn get(&self, path: &[&str]) -> Option<String> {
        match self {
            Posted::Json(json) => {
                let found = path.iter().try_fold(json, |json, key| json.get(key))?;
                match found {
                    Json::String(text) => Some(text.clone()),
                    Json::Number(number) => Some(number.to_string()),
                    _ => None,
                }
            }
            Posted::Form(fields) => fields
                .iter()
                .find(|(name, _)| path.first() == Some(&name.as_str()))
                .map(|(_, value)| value.clone()),
        }
        .filter(|text| !text.trim().is_empty())
    }

    /// The first of several paths that is present.
    fn first(&self, paths: &[&[&str]]) -> Option<String> {
        paths.iter().find_map(|path| self.get(path))
    }
}

/// An email that reached the service: a reply.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Inbound {
    /// Its Message-ID, when the provider gives it: the same email posted
    /// again changes nothing.
    pub id: Option<String>,
    /// The sender's address (without a display name).
    pub from: String,
    /// Where it was sent.
    pub to: Option<String>,
    /// Its subject.
    pub subject: Option<String>,
    /// Its plain text: the reply alone, without the quoted message, when
    /// the provider separates them.
    pub text: Option<String>,
}

/// A path to a value: nested JSON keys, or a form field's name.
type Path = &'static [&'static str];

/// Where a shape keeps an inbound email's parts, each the first of its
/// paths present.
struct InboundFields {
    from: &'static [Path],
    to: &'static [Path],
    subject: Path,
    text: &'static [Path],
    id: &'static [Path],
}

/// Reads an inbound email in `shape`; why not, when it is not one.
pub fn inbound(shape: Shape, posted: &Posted) -> Result<Inbound, String> {
    let fields = match shape {
        Shape::Generic => InboundFields {
            from: &[&["from"]],
            to: &[&["to"]],
            subject: &["subject"],
            text: &[&["text"]],
            id: &[
                &["id"],
                &["headers", "Message-ID"],
                &["headers", "Message-Id"],
            ],
        },
        Shape::Postmark => InboundFields {
            from: &[&["FromFull", "Email"], &["From"]],
            to: &[&["OriginalRecipient"], &["To"]],
            subject: &["Subject"],
            text: &[&["StrippedTextReply"], &["TextBody"]],
            id: &[&["MessageID"]],
        },
        Shape::Sendgrid => InboundFields {
            from: &[&["from"]],
            to: &[&["to"]],
            subject: &["subject"],
            text: &[&["text"]],
            id: &[],
        },
        Shape::Mailgun => InboundFields {
            from: &[&["sender"], &["from"]],
            to: &[&["recipient"], &["To"]],
            subject: &["subject"],
            text: &[&["stripped-text"], &["body-plain"]],
            id: &[&["Message-Id"]],
        },
    };
    let InboundFields {
        from,
        to,
        subject,
        text,
        id,
    } = fields;
    let from = posted
        .first(from)
        .map(|from| address(&from))
        .ok_or_else(|| format!("a {shape:?} inbound email names its sender ({:?})", from[0]))?;
    let id = posted.first(id).or_else(|| {
        // SendGrid gives the raw header block.
        let headers = posted.get(&["headers"])?;
        header(&headers, "message-id")
    });
    Ok(Inbound {
        id,
        from,
        to: posted.first(to).map(|to| address(&to)),
        subject: posted.get(subject),
        text: posted.first(text),
    })
}

/// A delivery event that changes an address's consent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The provider's id of the event, if it has one.
    pub id: Option<String>,
    /// The address.
    pub address: String,
    /// What happened.
    pub kind: DeliveryKind,
}

/// What a delivery event says of an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryKind {
    /// A permanent bounce: the address cannot take email.
    Bounce,
    /// The recipient marked an email as spam.
    Complaint,
}

impl DeliveryKind {
    /// In words, for the consent's source.
    pub fn name(self) -> &'static str {
        match self {
            DeliveryKind::Bounce => "bounce",
            DeliveryKind::Complaint => "complaint",
        }
    }
}

/// Reads the delivery events of a post in `shape` (one event or an array
/// of them); events that change no consent (deliveries, opens, soft
/// bounces) are left out.
pub fn deliveries(shape: Shape, posted: &Posted) -> Result<Vec<Delivery>, String> {
    let Posted::Json(json) = posted else {
        return Err("delivery events are JSON".to_owned());
    };
    let items: Vec<Posted> = match json {
        Json::Array(items) => items.iter().cloned().map(Posted::Json).collect(),
        Json::Object(_) => vec![posted.clone()],
        _ => return Err("delivery events are a JSON object or an array of them".to_owned()),
    };
    Ok(items
        .iter()
        .filter_map(|item| delivery(shape, item))
        .collect())
}

fn delivery(shape: Shape, item: &Posted) -> Option<Delivery> {
    let (kind, recipient, id) = match shape {
        Shape::Generic => {
            let kind = match item.get(&["type"])?.as_str() {
                "bounce" => DeliveryKind::Bounce,
                "complaint" => DeliveryKind::Complaint,
                _ => return None,
            };
            (kind, item.get(&["email"])?, item.get(&["id"]))
        }
        Shape::Postmark => {
            let kind = match (item.get(&["RecordType"])?.as_str(), item.get(&["Type"])) {
                ("Bounce", Some(kind)) if kind == "HardBounce" || kind == "BadEmailAddress" => {
                    DeliveryKind::Bounce
                }
                ("SpamComplaint", _) => DeliveryKind::Complaint,
                _ => return None,
            };
            (kind, item.get(&["Email"])?, item.get(&["ID"]))
        }
        Shape::Sendgrid => {
            let kind = match (item.get(&["event"])?.as_str(), item.get(&["type"])) {
                ("bounce", kind) if kind.as_deref() != Some("blocked") => DeliveryKind::Bounce,
                ("spamreport", _) => DeliveryKind::Complaint,
                _ => return None,
            };
            (kind, item.get(&["email"])?, item.get(&["sg_event_id"]))
        }
        Shape::Mailgun => {
            let data = |key| item.get(&["event-data", key]);
            let kind = match (data("event")?.as_str(), data("severity")) {
                ("failed", Some(severity)) if severity == "permanent" => DeliveryKind::Bounce,
                ("complained", _) => DeliveryKind::Complaint,
                _ => return None,
            };
            (kind, data("recipient")?, data("id"))
        }
    };
    Some(Delivery {
        id,
        address: address(&recipient),
        kind,
    })
}

/// The address in `Ann <ann@acme.example>`, or the whole text.
fn address(text: &str) -> String {
    let inner = text
        .rsplit_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map_or(text, |(inner, _)| inner);
    inner.trim().to_owned()
}

/// The value of header `name` (lower case) in a raw header block.
fn header(block: &str, name: &str) -> Option<String> {
    block.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then(|| value.trim().to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn form(fields: &[(&str, &str)]) -> Posted {
        Posted::Form(
            fields
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn each_providers_inbound_email_reads_alike() {
        let want = |id: Option<&str>, text: &str| Inbound {
            id: id.map(str::to_owned),
            from: "ann@acme.example".to_owned(),
            to: Some("sam@reply.example".to_owned()),
            subject: Some("Re: Hi".to_owned()),
            text: Some(text.to_owned()),
        };
        let generic = Posted::Json(json!({
            "from": "Ann <ann@acme.example>", "to": "sam@reply.example", "subject": "Re: Hi",
            "text": "Interested!", "headers": {"Message-ID": "<m1@acme.example>"}
        }));
        assert_eq!(
            inbound(Shape::Generic, &generic),
            Ok(want(Some("<m1@acme.example>"), "Interested!"))
        );
        let postmark = Posted::Json(json!({
            "From": "ann@acme.example", "FromFull": {"Email": "ann@acme.example", "Name": "Ann"},
            "To": "\"Sam\" <sam@reply.example>", "Subject": "Re: Hi", "MessageID": "pm-1",
            "TextBody": "Interested!\n\n> On Monday Sam wrote: are you interested?",
            "StrippedTextReply": "Interested!"
        }));
        assert_eq!(
            inbound(Shape::Postmark, &postmark),
            Ok(want(Some("pm-1"), "Interested!"))
        );
        let sendgrid = form(&[
            ("from", "Ann <ann@acme.example>"),
            ("to", "sam@reply.example"),
            ("subject", "Re: Hi"),
            ("text", "Interested!"),
            (
                "headers",
                "Received: by mx\nMessage-ID: <sg@acme.example>\nSubject: Re: Hi",
            ),
        ]);
        assert_eq!(
            inbound(Shape::Sendgrid, &sendgrid),
            Ok(want(Some("<sg@acme.example>"), "Interested!"))
        );
        let mailgun = form(&[
            ("sender", "ann@acme.example"),
            ("recipient", "sam@reply.example"),
            ("subject", "Re: Hi"),
            ("body-plain", "Interested!\n> quoted"),
            ("stripped-text", "Interested!"),
            ("Message-Id", "<mg@acme.example>"),
        ]);
        assert_eq!(
            inbound(Shape::Mailgun, &mailgun),
            Ok(want(Some("<mg@acme.example>"), "Interested!"))
        );
        let anonymous = Posted::Json(json!({"text": "hi", "from": "  "}));
        assert!(inbound(Shape::Generic, &anonymous).is_err());
    }

    #[test]
    fn only_hard_bounces_and_complaints_change_consent() {
        let postmark = Posted::Json(json!([
            {"RecordType": "Bounce", "Type": "HardBounce", "Email": "a@x.example", "ID": 42},
            {"RecordType": "Bounce", "Type": "SoftBounce", "Email": "b@x.example", "ID": 43},
            {"RecordType": "SpamComplaint", "Email": "c@x.example", "ID": 44},
            {"RecordType": "Delivery", "Email": "d@x.example"}
        ]));
        let found = deliveries(Shape::Postmark, &postmark).unwrap();
        let seen: Vec<(&str, DeliveryKind, Option<&str>)> = found
            .iter()
            .map(|d| (d.address.as_str(), d.kind, d.id.as_deref()))
            .collect();
        assert_eq!(
            seen,
            [
                ("a@x.example", DeliveryKind::Bounce, Some("42")),
                ("c@x.example", DeliveryKind::Complaint, Some("44")),
            ]
        );
        let sendgrid = Posted::Json(json!([
            {"event": "bounce", "type": "bounce", "email": "a@x.example", "sg_event_id": "e1"},
            {"event": "bounce", "type": "blocked", "email": "b@x.example", "sg_event_id": "e2"},
            {"event": "spamreport", "email": "c@x.example", "sg_event_id": "e3"},
            {"event": "open", "email": "d@x.example", "sg_event_id": "e4"}
        ]));
        assert_eq!(deliveries(Shape::Sendgrid, &sendgrid).unwrap().len(), 2);
        let mailgun = Posted::Json(json!({"signature": {}, "event-data": {
            "event": "failed", "severity": "permanent", "recipient": "a@x.example", "id": "mg1"
        }}));
        assert_eq!(
            deliveries(Shape::Mailgun, &mailgun).unwrap(),
            [Delivery {
                id: Some("mg1".to_owned()),
                address: "a@x.example".to_owned(),
                kind: DeliveryKind::Bounce
            }]
        );
        let temporary = Posted::Json(json!({"event-data": {
            "event": "failed", "severity": "temporary", "recipient": "a@x.example"
        }}));
        assert!(deliveries(Shape::Mailgun, &temporary).unwrap().is_empty());
        let generic = Posted::Json(json!({"type": "complaint", "email": "a@x.example"}));
        assert_eq!(
            deliveries(Shape::Generic, &generic).unwrap()[0].kind,
            DeliveryKind::Complaint
        );
        assert!(deliveries(Shape::Generic, &Posted::Json(json!(3))).is_err());
    }
}
