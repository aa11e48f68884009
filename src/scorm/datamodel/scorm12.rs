//! SCORM 1.2 run-time environment (`API`): its data model and error codes.

use super::types::Kind::*;
use super::{Access::*, Element, ErrorText};

const STATUS: &[&str] = &[
    "passed",
    "completed",
    "failed",
    "incomplete",
    "browsed",
    "not attempted",
];
const INTERACTION_TYPES: &[&str] = &[
    "true-false",
    "choice",
    "fill-in",
    "matching",
    "performance",
    "sequencing",
    "likert",
    "numeric",
];
const SCORE: (f64, f64) = (0.0, 100.0);
/// `CMIFeedback` is 255 in the text; authoring tools write longer matching answers, so the
/// limit is that of `CMIString4096`.
const FEEDBACK: usize = 4096;

pub static ELEMENTS: &[Element] = &[
    Element::children(
        "cmi.core._children",
        "student_id,student_name,lesson_location,credit,lesson_status,entry,score,total_time,lesson_mode,exit,session_time",
    ),
    Element::new("cmi.core.student_id", Identifier, ReadOnly).max(255),
    Element::new("cmi.core.student_name", Text, ReadOnly).max(255),
    Element::new("cmi.core.lesson_location", Text, ReadWrite).max(255),
    Element::new("cmi.core.credit", Vocabulary, ReadOnly).vocab(&["credit", "no-credit"]),
    // "not attempted" is the LMS's word: the SCO may not set it (checked in `Runtime`).
    Element::new("cmi.core.lesson_status", Vocabulary, ReadWrite).vocab(STATUS),
    Element::new("cmi.core.entry", Vocabulary, ReadOnly).vocab(&["ab-initio", "resume", ""]),
    Element::children("cmi.core.score._children", "raw,min,max"),
    Element::new("cmi.core.score.raw", DecimalOrBlank, ReadWrite).range(SCORE.0, SCORE.1),
    Element::new("cmi.core.score.min", DecimalOrBlank, ReadWrite).range(SCORE.0, SCORE.1),
    Element::new("cmi.core.score.max", DecimalOrBlank, ReadWrite).range(SCORE.0, SCORE.1),
    Element::new("cmi.core.total_time", Timespan, ReadOnly),
    Element::new("cmi.core.lesson_mode", Vocabulary, ReadOnly)
        .vocab(&["browse", "normal", "review"]),
    Element::new("cmi.core.exit", Vocabulary, WriteOnly)
        .vocab(&["time-out", "suspend", "logout", ""]),
    Element::new("cmi.core.session_time", Timespan, WriteOnly),
    Element::new("cmi.suspend_data", Text, ReadWrite).max(4096),
    Element::new("cmi.launch_data", Text, ReadOnly).max(4096),
    Element::new("cmi.comments", Text, ReadWrite).max(4096),
    Element::new("cmi.comments_from_lms", Text, ReadOnly).max(4096),
    Element::children("cmi.objectives._children", "id,score,status"),
    Element::count("cmi.objectives._count"),
    Element::new("cmi.objectives.n.id", Identifier, ReadWrite).max(255),
    Element::children("cmi.objectives.n.score._children", "raw,min,max"),
    Element::new("cmi.objectives.n.score.raw", DecimalOrBlank, ReadWrite).range(SCORE.0, SCORE.1),
    Element::new("cmi.objectives.n.score.min", DecimalOrBlank, ReadWrite).range(SCORE.0, SCORE.1),
    Element::new("cmi.objectives.n.score.max", DecimalOrBlank, ReadWrite).range(SCORE.0, SCORE.1),
    Element::new("cmi.objectives.n.status", Vocabulary, ReadWrite).vocab(STATUS),
    Element::children(
        "cmi.student_data._children",
        "mastery_score,max_time_allowed,time_limit_action",
    ),
    Element::new("cmi.student_data.mastery_score", Decimal, ReadOnly).range(SCORE.0, SCORE.1),
    Element::new("cmi.student_data.max_time_allowed", Timespan, ReadOnly),
    Element::new("cmi.student_data.time_limit_action", Vocabulary, ReadOnly).vocab(&[
        "exit,message",
        "exit,no message",
        "continue,message",
        "continue,no message",
    ]),
    Element::children(
        "cmi.student_preference._children",
        "audio,language,speed,text",
    ),
    Element::new("cmi.student_preference.audio", Integer, ReadWrite).range(-1.0, 100.0),
    Element::new("cmi.student_preference.language", Text, ReadWrite).max(255),
    Element::new("cmi.student_preference.speed", Integer, ReadWrite).range(-100.0, 100.0),
    Element::new("cmi.student_preference.text", Integer, ReadWrite).range(-1.0, 1.0),
    Element::children(
        "cmi.interactions._children",
        "id,objectives,time,type,correct_responses,weighting,student_response,result,latency",
    ),
    Element::count("cmi.interactions._count"),
    Element::new("cmi.interactions.n.id", Identifier, WriteOnly).max(255),
    Element::count("cmi.interactions.n.objectives._count"),
    Element::new("cmi.interactions.n.objectives.n.id", Identifier, WriteOnly).max(255),
    Element::new("cmi.interactions.n.time", ClockTime, WriteOnly),
    Element::new("cmi.interactions.n.type", Vocabulary, WriteOnly).vocab(INTERACTION_TYPES),
    Element::count("cmi.interactions.n.correct_responses._count"),
    Element::new(
        "cmi.interactions.n.correct_responses.n.pattern",
        Text,
        WriteOnly,
    )
    .max(FEEDBACK),
    Element::new("cmi.interactions.n.weighting", Decimal, WriteOnly),
    Element::new("cmi.interactions.n.student_response", Text, WriteOnly).max(FEEDBACK),
    Element::new("cmi.interactions.n.result", VocabularyOrDecimal, WriteOnly).vocab(&[
        "correct",
        "wrong",
        "unanticipated",
        "neutral",
    ]),
    Element::new("cmi.interactions.n.latency", Timespan, WriteOnly),
];

pub static ERRORS: &[ErrorText] = &[
    ErrorText {
        code: 0,
        text: "No error",
    },
    ErrorText {
        code: 101,
        text: "General exception",
    },
    ErrorText {
        code: 201,
        text: "Invalid argument error",
    },
    ErrorText {
        code: 202,
        text: "Element cannot have children",
    },
    ErrorText {
        code: 203,
        text: "Element not an array. Cannot have count",
    },
    ErrorText {
        code: 301,
        text: "Not initialized",
    },
    ErrorText {
        code: 401,
        text: "Not implemented error",
    },
    ErrorText {
        code: 402,
        text: "Invalid set value, element is a keyword",
    },
    ErrorText {
        code: 403,
        text: "Element is read only",
    },
    ErrorText {
        code: 404,
        text: "Element is write only",
    },
    ErrorText {
        code: 405,
        text: "Incorrect Data Type",
    },
];
