//! Pure attestation rules: the documents, what an attestation states (its signed fields,
//! its module lines), and the verification code bound to them. Completion of a path is in
//! `completion.rs`.

use chrono::NaiveDate;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// The three documents an organism issues.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Attestation de fin de formation (CQP path, Code du travail L6353-1).
    FinFormation,
    /// Attestation de formation d'adaptation à l'emploi (FAE path).
    Fae,
    /// Certificat de réalisation, for any period, even mid-training.
    Realisation,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::FinFormation => "fin_formation",
            Kind::Fae => "fae",
            Kind::Realisation => "realisation",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        [Kind::FinFormation, Kind::Fae, Kind::Realisation]
            .into_iter()
            .find(|k| k.as_str() == s)
    }

    pub fn title(self) -> &'static str {
        match self {
            Kind::FinFormation => "Attestation de fin de formation",
            Kind::Fae => "Attestation de formation d'adaptation à l'emploi",
            Kind::Realisation => "Certificat de réalisation",
        }
    }

    /// Whether the doctor forwards it to his CPAM: the FAE's alone (for the CQP, the CPAM
    /// wants the CQP itself; the others are for information).
    pub fn for_cpam(self) -> bool {
        self == Kind::Fae
    }

    /// The end-of-path attestation of a programme kind (`cqp` or `fae`).
    pub fn final_for(program_kind: &str) -> Kind {
        if program_kind == "fae" {
            Kind::Fae
        } else {
            Kind::FinFormation
        }
    }

    /// Whether this document closes the path (one per trainee and cohort, needs completion).
    pub fn is_final(self) -> bool {
        !matches!(self, Kind::Realisation)
    }

    pub fn file_stem(self) -> &'static str {
        match self {
            Kind::FinFormation => "attestation-fin-de-formation",
            Kind::Fae => "attestation-formation-adaptation-emploi",
            Kind::Realisation => "certificat-de-realisation",
        }
    }
}

pub fn check_revoke_reason(reason: &str) -> Result<String, &'static str> {
    let r = reason.trim();
    if r.chars().count() < 5 {
        return Err("Indiquez le motif de la révocation (5 caractères au moins).");
    }
    if r.chars().count() > 500 {
        return Err("Le motif ne doit pas dépasser 500 caractères.");
    }
    Ok(r.to_string())
}

/// A period of a certificate: within the cohort, not in the future, in order.
/// The period an end-of-path document states: the trainee's own entry (a late joiner did not
/// follow the weeks before it) to her exit, or today while she is still in the cohort.
pub fn path_dates(
    cohort_start: NaiveDate,
    entered_on: NaiveDate,
    left_on: Option<NaiveDate>,
    today: NaiveDate,
) -> (NaiveDate, NaiveDate) {
    let from = cohort_start.max(entered_on).min(today);
    let to = left_on.unwrap_or(today).min(today).max(from);
    (from, to)
}

pub fn check_period(
    from: NaiveDate,
    to: NaiveDate,
    cohort_start: NaiveDate,
    today: NaiveDate,
) -> Result<(), &'static str> {
    if to < from {
        return Err("La fin de la période précède son début.");
    }
    if to > today {
        return Err("La période ne peut pas se terminer après aujourd'hui.");
    }
    if from < cohort_start - chrono::Duration::days(366) {
        return Err("La période commence trop tôt.");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// What the document states (the signed fields)
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganismFacts {
    pub name: String,
    pub siret: Option<String>,
    pub nda: Option<String>,
    pub qualiopi_number: Option<String>,
    pub address: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleLine {
    pub code: String,
    pub title: String,
    pub planned_secs: i64,
    pub exempted_secs: i64,
    pub distance_secs: i64,
    pub presentiel_secs: i64,
    pub correction_secs: i64,
    /// Evaluation result as a percentage, when there is one.
    pub evaluation_pct: Option<i32>,
    pub evaluation_passed: Option<bool>,
}

impl ModuleLine {
    pub fn done_secs(&self) -> i64 {
        (self.distance_secs + self.presentiel_secs + self.correction_secs).max(0)
    }
}

/// One module of the path as a document counts it.
#[derive(Clone, Debug, Default)]
pub struct LineFacts {
    pub code: String,
    pub title: String,
    pub planned_secs: i64,
    pub exempted_secs: i64,
    /// Distance, in-person and correction seconds: over the whole path, or only in the
    /// period of a certificate.
    pub done: (i64, i64, i64),
    /// Best submitted evaluation result: (score %, passed).
    pub best_result: Option<(i32, bool)>,
}

/// The module lines a document states. An end-of-path attestation states the whole path with
/// its evaluations; a certificate of a period states the hours done in it against the plan
/// net of exemptions, and no evaluation.
pub fn module_lines(kind: Kind, modules: Vec<LineFacts>) -> Vec<ModuleLine> {
    modules
        .into_iter()
        .map(|m| {
            let (distance_secs, presentiel_secs, correction_secs) = m.done;
            let line = ModuleLine {
                code: m.code,
                title: m.title,
                planned_secs: m.planned_secs,
                exempted_secs: m.exempted_secs,
                distance_secs,
                presentiel_secs,
                correction_secs,
                evaluation_pct: m.best_result.map(|r| r.0),
                evaluation_passed: m.best_result.map(|r| r.1),
            };
            match kind {
                Kind::Realisation => ModuleLine {
                    planned_secs: m.planned_secs - m.exempted_secs,
                    exempted_secs: 0,
                    evaluation_pct: None,
                    evaluation_passed: None,
                    ..line
                },
                Kind::FinFormation | Kind::Fae => line,
            }
        })
        .collect()
}

/// Everything an attestation states. Serialised once (field order fixed by this struct)
/// and signed; the PDF and the verification page are drawn from it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    pub v: u32,
    pub kind: Kind,
    pub number: String,
    pub organism: OrganismFacts,
    pub trainee_name: String,
    pub employer: Option<String>,
    pub program_code: String,
    pub program_title: String,
    pub certification: String,
    pub objectives: String,
    pub nature: String,
    pub modalities: String,
    pub period_from: NaiveDate,
    pub period_to: NaiveDate,
    pub modules: Vec<ModuleLine>,
    pub issued_on: NaiveDate,
    pub place: String,
    pub signatory: String,
    /// Issued although the path was not complete (the reason is audited, not printed).
    pub by_derogation: bool,
    /// Random salt: two identical statements still get different codes.
    pub nonce: String,
    /// The funding file's reference ("OPCO EP n° …") on a certificate; absent from the
    /// statements signed before it existed, which so re-serialise as they were signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub funding_ref: Option<String>,
}

impl Statement {
    pub fn distance_secs(&self) -> i64 {
        self.modules.iter().map(|m| m.distance_secs).sum()
    }
    pub fn presentiel_secs(&self) -> i64 {
        self.modules.iter().map(|m| m.presentiel_secs).sum()
    }
    pub fn correction_secs(&self) -> i64 {
        self.modules.iter().map(|m| m.correction_secs).sum()
    }
    pub fn exempted_secs(&self) -> i64 {
        self.modules.iter().map(|m| m.exempted_secs).sum()
    }
    pub fn done_secs(&self) -> i64 {
        self.modules.iter().map(ModuleLine::done_secs).sum()
    }
    pub fn planned_secs(&self) -> i64 {
        self.modules.iter().map(|m| m.planned_secs).sum()
    }

    /// The exact bytes that are signed.
    pub fn canonical(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The public number of a document: organism, year of issue, sequence.
pub fn document_number(organism_id: i64, issued_on: NaiveDate, id: i64) -> String {
    use chrono::Datelike;
    format!("AT-{organism_id}-{}-{id:06}", issued_on.year())
}

// ---------------------------------------------------------------------------------------
// Verification code
// ---------------------------------------------------------------------------------------

/// Crockford's base 32: no I, L, O or U, so a code read aloud or retyped stays unambiguous.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters of MAC in a code (15 × 5 = 75 bits), plus one check character.
const MAC_CHARS: usize = 15;
pub const CODE_LEN: usize = MAC_CHARS + 1;

/// The key of attestation MACs, derived from the server secret with its own label, so that
/// no other use of the secret (sessions, CSRF) can produce an attestation signature.
pub fn derive_key(secret: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(b"parcours/attestation-signing-key/v1");
    mac.finalize().into_bytes().into()
}

/// HMAC-SHA256 of the statement's canonical bytes, in hex.
pub fn signature(key: &[u8; 32], canonical: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(canonical.as_bytes());
    crate::base::digest::hex(&mac.finalize().into_bytes())
}

/// Multiplication by x in GF(32) (modulus x⁵ + x² + 1).
fn times_x(v: u8) -> u8 {
    let y = v << 1;
    if y & 0x20 != 0 { (y ^ 0x25) & 0x1f } else { y }
}

fn check_char(body: &[u8]) -> u8 {
    // c ← x·c + d over GF(32): each step is a bijection of both c and d, so any one changed
    // character changes the result, and so does any swap of two neighbours (3·(a+b) ≠ 0).
    let sum = body.iter().fold(0u8, |acc, c| {
        let d = ALPHABET.iter().position(|a| a == c).unwrap_or(0) as u8;
        times_x(acc) ^ d
    });
    ALPHABET[sum as usize]
}

/// The verification code of a signature: its first 75 bits in base 32, and a check character.
pub fn code_from_signature(signature_hex: &str) -> String {
    let bytes: Vec<u8> = (0..signature_hex.len() / 2)
        .filter_map(|i| u8::from_str_radix(signature_hex.get(2 * i..2 * i + 2)?, 16).ok())
        .collect();
    let mut body = Vec::with_capacity(CODE_LEN);
    let (mut acc, mut bits) = (0u32, 0u32);
    for b in bytes {
        if body.len() == MAC_CHARS {
            break;
        }
        acc = (acc << 8) | b as u32;
        bits += 8;
        while bits >= 5 && body.len() < MAC_CHARS {
            bits -= 5;
            body.push(ALPHABET[((acc >> bits) & 31) as usize]);
        }
        acc &= (1 << bits) - 1;
    }
    let c = check_char(&body);
    body.push(c);
    String::from_utf8(body).unwrap_or_default()
}

/// `ABCD-EFGH-JKMN-PQRS`, as printed.
pub fn display_code(code: &str) -> String {
    code.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CodeInput {
    /// Well formed: look it up.
    Valid(String),
    /// Wrong length or characters, or the check character does not match (a typo).
    Malformed,
}

/// Normalises what someone typed or scanned: case, dashes and spaces, and the letters
/// Crockford maps (O→0, I/L→1); then checks length and check character.
pub fn parse_code(raw: &str) -> CodeInput {
    let mut code = String::with_capacity(CODE_LEN);
    for c in raw.chars() {
        let c = c.to_ascii_uppercase();
        match c {
            '-' | ' ' => continue,
            'O' => code.push('0'),
            'I' | 'L' => code.push('1'),
            c if c.is_ascii() && ALPHABET.contains(&(c as u8)) => code.push(c),
            _ => return CodeInput::Malformed,
        }
        if code.len() > CODE_LEN {
            return CodeInput::Malformed;
        }
    }
    if code.len() != CODE_LEN {
        return CodeInput::Malformed;
    }
    let (body, check) = code.as_bytes().split_at(MAC_CHARS);
    if check_char(body) != check[0] {
        return CodeInput::Malformed;
    }
    CodeInput::Valid(code)
}

/// Whether a stored statement, its signature and its code all agree under this key.
pub fn is_genuine(key: &[u8; 32], canonical: &str, stored_signature: &str, code: &str) -> bool {
    let expected = signature(key, canonical);
    constant_time_eq(expected.as_bytes(), stored_signature.as_bytes())
        && constant_time_eq(code_from_signature(&expected).as_bytes(), code.as_bytes())
}

/// Why an erased holder's document has no PDF any more.
pub const ERASED: &str = "Ce document n'est plus disponible : les données personnelles de son titulaire ont été effacées. Son code reste vérifiable sur la page « Vérifier une attestation ».";

/// Why nothing more is issued to a person whose data was erased.
pub const ERASED_HOLDER: &str = "Les données personnelles de ce stagiaire ont été effacées : aucun document ne peut plus lui être délivré. Ses attestations déjà émises restent vérifiables par leur code.";

/// The seal of a statement whose holder was erased (issue #23): the pseudonymised statement,
/// bound to the document's code, signed again when its original was checked genuine.
pub fn erased_seal(key: &[u8; 32], code: &str, pseudonymised: &str) -> String {
    signature(key, &format!("erased\n{code}\n{pseudonymised}"))
}

/// Whether a pseudonymised statement is the one sealed at its erasure.
pub fn is_genuine_erased(key: &[u8; 32], pseudonymised: &str, seal: &str, code: &str) -> bool {
    constant_time_eq(
        erased_seal(key, code, pseudonymised).as_bytes(),
        seal.as_bytes(),
    )
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A stored kind the doctor may mark "transmise à la CPAM", or why not.
pub fn check_for_cpam(kind: &str) -> Result<(), &'static str> {
    match Kind::parse(kind) {
        Some(k) if k.for_cpam() => Ok(()),
        _ => Err("Ce document est pour information : il n'est pas à transmettre à la CPAM."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_bound_to_the_content_and_the_key() {
        let key = derive_key(b"a server secret of some length, 32+");
        let other = derive_key(b"another server secret of some length");
        assert_ne!(key, other);
        let sig = signature(&key, r#"{"hours":266}"#);
        let code = code_from_signature(&sig);
        assert_eq!(code.len(), CODE_LEN);
        assert!(is_genuine(&key, r#"{"hours":266}"#, &sig, &code));
        // One byte of the content changed.
        assert!(!is_genuine(&key, r#"{"hours":267}"#, &sig, &code));
        // Another key (another server) does not vouch for it.
        assert!(!is_genuine(&other, r#"{"hours":266}"#, &sig, &code));
        // A code that is not this document's.
        let wrong = code_from_signature(&signature(&key, "{}"));
        assert!(!is_genuine(&key, r#"{"hours":266}"#, &sig, &wrong));
    }

    #[test]
    fn a_typed_code_is_normalised_and_a_typo_is_caught() {
        let key = derive_key(b"secret secret secret secret secret");
        let code = code_from_signature(&signature(&key, "x"));
        assert_eq!(parse_code(&code), CodeInput::Valid(code.clone()));
        let shown = display_code(&code).to_lowercase();
        assert_eq!(shown.len(), CODE_LEN + 3);
        assert_eq!(parse_code(&shown), CodeInput::Valid(code.clone()));
        // Every single-character change is detected by the check character.
        for i in 0..CODE_LEN {
            for &c in ALPHABET {
                if code.as_bytes()[i] == c {
                    continue;
                }
                let mut changed = code.clone().into_bytes();
                changed[i] = c;
                let changed = String::from_utf8(changed).unwrap();
                assert_eq!(parse_code(&changed), CodeInput::Malformed, "{changed}");
            }
        }
        // And so is every swap of two different neighbours of the body.
        for i in 0..MAC_CHARS - 1 {
            let mut swapped = code.clone().into_bytes();
            if swapped[i] != swapped[i + 1] {
                swapped.swap(i, i + 1);
                let swapped = String::from_utf8(swapped).unwrap();
                assert_eq!(parse_code(&swapped), CodeInput::Malformed, "{swapped}");
            }
        }
        assert_eq!(parse_code("ABC"), CodeInput::Malformed);
        assert_eq!(parse_code("<script>"), CodeInput::Malformed);
        assert_eq!(parse_code(&format!("{code}0")), CodeInput::Malformed);
    }

    #[test]
    fn a_certificate_states_the_period_net_of_exemptions_without_evaluations() {
        let facts = LineFacts {
            code: "M1".into(),
            title: "Suivi".into(),
            planned_secs: 77 * 3600,
            exempted_secs: 7 * 3600,
            done: (10 * 3600, 5 * 3600, 1800),
            best_result: Some((85, true)),
        };
        let [whole] = module_lines(Kind::Fae, vec![facts.clone()])
            .try_into()
            .unwrap();
        assert_eq!(
            (whole.planned_secs, whole.exempted_secs),
            (77 * 3600, 7 * 3600)
        );
        assert_eq!(
            (whole.evaluation_pct, whole.evaluation_passed),
            (Some(85), Some(true))
        );
        assert_eq!(whole.done_secs(), 15 * 3600 + 1800);
        let [period] = module_lines(Kind::Realisation, vec![facts])
            .try_into()
            .unwrap();
        assert_eq!((period.planned_secs, period.exempted_secs), (70 * 3600, 0));
        assert_eq!(
            (period.evaluation_pct, period.evaluation_passed),
            (None, None)
        );
        assert_eq!(
            (
                period.distance_secs,
                period.presentiel_secs,
                period.correction_secs
            ),
            (10 * 3600, 5 * 3600, 1800)
        );
    }

    #[test]
    fn numbers_and_kinds() {
        let d = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        assert_eq!(document_number(3, d, 42), "AT-3-2026-000042");
        assert_eq!(Kind::final_for("fae"), Kind::Fae);
        assert_eq!(Kind::final_for("cqp"), Kind::FinFormation);
        assert!(!Kind::Realisation.is_final());
        assert_eq!(Kind::parse("fae"), Some(Kind::Fae));
    }

    #[test]
    fn period_checks() {
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        // A late joiner's documents start at her entry, and end at her exit if she left.
        assert_eq!(
            path_dates(d(10, 4), d(12, 1), None, d(12, 4)),
            (d(12, 1), d(12, 4))
        );
        assert_eq!(
            path_dates(d(10, 4), d(9, 20), None, d(12, 4)),
            (d(10, 4), d(12, 4))
        );
        assert_eq!(
            path_dates(d(10, 4), d(10, 4), Some(d(11, 15)), d(12, 4)),
            (d(10, 4), d(11, 15))
        );
        assert!(check_period(d(9, 1), d(11, 30), d(9, 1), d(12, 2)).is_ok());
        assert!(check_period(d(11, 1), d(10, 1), d(9, 1), d(12, 2)).is_err());
        assert!(check_period(d(9, 1), d(12, 3), d(9, 1), d(12, 2)).is_err());
    }
}
