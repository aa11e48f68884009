//! SCORM 2004 (3rd and 4th editions) run-time environment (`API_1484_11`): its data model and
//! error codes. Lengths are the standard's smallest permitted maxima, which we also keep as
//! our maxima (past them: 407).

use super::types::Kind::*;
use super::{Access::*, Element, ErrorText};

const COMPLETION: &[&str] = &["completed", "incomplete", "not attempted", "unknown"];
const SUCCESS: &[&str] = &["passed", "failed", "unknown"];
const INTERACTION_TYPES: &[&str] = &[
    "true-false",
    "choice",
    "fill-in",
    "long-fill-in",
    "matching",
    "performance",
    "sequencing",
    "likert",
    "numeric",
    "other",
];
const SCALED: (f64, f64) = (-1.0, 1.0);
const ANY: (f64, f64) = (f64::MIN, f64::MAX);
const NAV: &[&str] = &[
    "continue",
    "previous",
    "exit",
    "exitAll",
    "abandon",
    "abandonAll",
    "suspendAll",
    "_none_",
];

pub static ELEMENTS: &[Element] = &[
    Element::children("cmi._version", "1.0"),
    Element::children(
        "cmi.comments_from_learner._children",
        "comment,location,timestamp",
    ),
    Element::count("cmi.comments_from_learner._count"),
    Element::new(
        "cmi.comments_from_learner.n.comment",
        LocalizedText,
        ReadWrite,
    )
    .max(4000),
    Element::new("cmi.comments_from_learner.n.location", Text, ReadWrite).max(250),
    Element::new(
        "cmi.comments_from_learner.n.timestamp",
        Timestamp,
        ReadWrite,
    ),
    Element::children(
        "cmi.comments_from_lms._children",
        "comment,location,timestamp",
    ),
    Element::count("cmi.comments_from_lms._count"),
    Element::new("cmi.comments_from_lms.n.comment", LocalizedText, ReadOnly).max(4000),
    Element::new("cmi.comments_from_lms.n.location", Text, ReadOnly).max(250),
    Element::new("cmi.comments_from_lms.n.timestamp", Timestamp, ReadOnly),
    Element::new("cmi.completion_status", Vocabulary, ReadWrite).vocab(COMPLETION),
    Element::new("cmi.completion_threshold", Decimal, ReadOnly).range(0.0, 1.0),
    Element::new("cmi.credit", Vocabulary, ReadOnly).vocab(&["credit", "no-credit"]),
    Element::new("cmi.entry", Vocabulary, ReadOnly).vocab(&["ab_initio", "resume", ""]),
    Element::new("cmi.exit", Vocabulary, WriteOnly)
        .vocab(&["time-out", "suspend", "logout", "normal", ""]),
    Element::children(
        "cmi.interactions._children",
        "id,type,objectives,timestamp,correct_responses,weighting,learner_response,result,latency,description",
    ),
    Element::count("cmi.interactions._count"),
    Element::new("cmi.interactions.n.id", Identifier, ReadWrite).max(4000),
    Element::new("cmi.interactions.n.type", Vocabulary, ReadWrite)
        .vocab(INTERACTION_TYPES)
        .requires("id"),
    Element::count("cmi.interactions.n.objectives._count"),
    Element::new("cmi.interactions.n.objectives.n.id", Identifier, ReadWrite)
        .max(4000)
        .requires("id"),
    Element::new("cmi.interactions.n.timestamp", Timestamp, ReadWrite).requires("id"),
    Element::count("cmi.interactions.n.correct_responses._count"),
    // The response formats depend on the type; what is checked is that the type came first.
    Element::new(
        "cmi.interactions.n.correct_responses.n.pattern",
        Text,
        ReadWrite,
    )
    .max(4000)
    .requires("type"),
    Element::new("cmi.interactions.n.weighting", Decimal, ReadWrite).requires("id"),
    Element::new("cmi.interactions.n.learner_response", Text, ReadWrite)
        .max(4000)
        .requires("type"),
    Element::new("cmi.interactions.n.result", VocabularyOrDecimal, ReadWrite)
        .vocab(&["correct", "incorrect", "unanticipated", "neutral"])
        .requires("id"),
    Element::new("cmi.interactions.n.latency", Duration, ReadWrite).requires("id"),
    Element::new("cmi.interactions.n.description", LocalizedText, ReadWrite)
        .max(250)
        .requires("id"),
    Element::new("cmi.launch_data", Text, ReadOnly).max(4000),
    Element::new("cmi.learner_id", Identifier, ReadOnly).max(4000),
    Element::new("cmi.learner_name", LocalizedText, ReadOnly).max(250),
    Element::children(
        "cmi.learner_preference._children",
        "audio_level,language,delivery_speed,audio_captioning",
    ),
    Element::new("cmi.learner_preference.audio_level", Decimal, ReadWrite).range(0.0, ANY.1),
    Element::new("cmi.learner_preference.language", Language, ReadWrite).max(250),
    Element::new("cmi.learner_preference.delivery_speed", Decimal, ReadWrite).range(0.0, ANY.1),
    Element::new(
        "cmi.learner_preference.audio_captioning",
        Vocabulary,
        ReadWrite,
    )
    .vocab(&["-1", "0", "1"]),
    Element::new("cmi.location", Text, ReadWrite).max(1000),
    Element::new("cmi.max_time_allowed", Duration, ReadOnly),
    Element::new("cmi.mode", Vocabulary, ReadOnly).vocab(&["browse", "normal", "review"]),
    Element::children(
        "cmi.objectives._children",
        "id,score,success_status,completion_status,progress_measure,description",
    ),
    Element::count("cmi.objectives._count"),
    Element::new("cmi.objectives.n.id", Identifier, ReadWrite).max(4000),
    Element::children("cmi.objectives.n.score._children", "scaled,raw,min,max"),
    Element::new("cmi.objectives.n.score.scaled", Decimal, ReadWrite)
        .range(SCALED.0, SCALED.1)
        .requires("id"),
    Element::new("cmi.objectives.n.score.raw", Decimal, ReadWrite).requires("id"),
    Element::new("cmi.objectives.n.score.min", Decimal, ReadWrite).requires("id"),
    Element::new("cmi.objectives.n.score.max", Decimal, ReadWrite).requires("id"),
    Element::new("cmi.objectives.n.success_status", Vocabulary, ReadWrite)
        .vocab(SUCCESS)
        .requires("id"),
    Element::new("cmi.objectives.n.completion_status", Vocabulary, ReadWrite)
        .vocab(COMPLETION)
        .requires("id"),
    Element::new("cmi.objectives.n.progress_measure", Decimal, ReadWrite)
        .range(0.0, 1.0)
        .requires("id"),
    Element::new("cmi.objectives.n.description", LocalizedText, ReadWrite)
        .max(250)
        .requires("id"),
    Element::new("cmi.progress_measure", Decimal, ReadWrite).range(0.0, 1.0),
    Element::new("cmi.scaled_passing_score", Decimal, ReadOnly).range(SCALED.0, SCALED.1),
    Element::children("cmi.score._children", "scaled,raw,min,max"),
    Element::new("cmi.score.scaled", Decimal, ReadWrite).range(SCALED.0, SCALED.1),
    Element::new("cmi.score.raw", Decimal, ReadWrite),
    Element::new("cmi.score.min", Decimal, ReadWrite),
    Element::new("cmi.score.max", Decimal, ReadWrite),
    Element::new("cmi.session_time", Duration, WriteOnly),
    Element::new("cmi.success_status", Vocabulary, ReadWrite).vocab(SUCCESS),
    Element::new("cmi.suspend_data", Text, ReadWrite).max(64000),
    Element::new("cmi.time_limit_action", Vocabulary, ReadOnly).vocab(&[
        "exit,message",
        "exit,no message",
        "continue,message",
        "continue,no message",
    ]),
    Element::new("cmi.total_time", Duration, ReadOnly),
    Element::new("adl.nav.request", NavRequest, ReadWrite).vocab(NAV),
    Element::new("adl.nav.request_valid.continue", Vocabulary, ReadOnly)
        .vocab(&["true", "false", "unknown"]),
    Element::new("adl.nav.request_valid.previous", Vocabulary, ReadOnly)
        .vocab(&["true", "false", "unknown"]),
];

pub static ERRORS: &[ErrorText] = &[
    ErrorText {
        code: 0,
        text: "No Error",
    },
    ErrorText {
        code: 101,
        text: "General Exception",
    },
    ErrorText {
        code: 102,
        text: "General Initialization Failure",
    },
    ErrorText {
        code: 103,
        text: "Already Initialized",
    },
    ErrorText {
        code: 104,
        text: "Content Instance Terminated",
    },
    ErrorText {
        code: 111,
        text: "General Termination Failure",
    },
    ErrorText {
        code: 112,
        text: "Termination Before Initialization",
    },
    ErrorText {
        code: 113,
        text: "Termination After Termination",
    },
    ErrorText {
        code: 122,
        text: "Retrieve Data Before Initialization",
    },
    ErrorText {
        code: 123,
        text: "Retrieve Data After Termination",
    },
    ErrorText {
        code: 132,
        text: "Store Data Before Initialization",
    },
    ErrorText {
        code: 133,
        text: "Store Data After Termination",
    },
    ErrorText {
        code: 142,
        text: "Commit Before Initialization",
    },
    ErrorText {
        code: 143,
        text: "Commit After Termination",
    },
    ErrorText {
        code: 201,
        text: "General Argument Error",
    },
    ErrorText {
        code: 301,
        text: "General Get Failure",
    },
    ErrorText {
        code: 351,
        text: "General Set Failure",
    },
    ErrorText {
        code: 391,
        text: "General Commit Failure",
    },
    ErrorText {
        code: 401,
        text: "Undefined Data Model Element",
    },
    ErrorText {
        code: 402,
        text: "Unimplemented Data Model Element",
    },
    ErrorText {
        code: 403,
        text: "Data Model Element Value Not Initialized",
    },
    ErrorText {
        code: 404,
        text: "Data Model Element Is Read Only",
    },
    ErrorText {
        code: 405,
        text: "Data Model Element Is Write Only",
    },
    ErrorText {
        code: 406,
        text: "Data Model Element Type Mismatch",
    },
    ErrorText {
        code: 407,
        text: "Data Model Element Value Out Of Range",
    },
    ErrorText {
        code: 408,
        text: "Data Model Dependency Not Established",
    },
];
