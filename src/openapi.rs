//! The OpenAPI 3 description of `/api/v1`, served at `/api/v1/openapi.json`.

use actix_web::HttpResponse;
use serde_json::{Value, json};

fn error_response(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

fn ok(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": schema}}})
}

fn id_param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "description": description, "schema": {"type": "integer", "format": "int64"}})
}

fn text_param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "description": description, "schema": {"type": "string"}})
}

fn secured(mut op: Value) -> Value {
    op["security"] = json!([{"bearer": []}]);
    let has_query = op["parameters"]
        .as_array()
        .is_some_and(|p| p.iter().any(|p| p["in"] == "query"));
    if let Some(r) = op["responses"].as_object_mut() {
        r.entry("401")
            .or_insert_with(|| error_response("Not signed in or token expired"));
        r.entry("403")
            .or_insert_with(|| error_response("Outside the caller's scope"));
        r.entry("404")
            .or_insert_with(|| error_response("Unknown, or not in the caller's scope"));
        if has_query {
            r.entry("422")
                .or_insert_with(|| error_response("Invalid query parameters"));
        }
    }
    op
}

/// The whole document: what `/api/v1` offers, served as JSON and as a page.
pub fn document() -> Value {
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Parcours API",
            "version": "1",
            "description": "JSON API of Parcours. Authenticate with POST /auth/token, then send `Authorization: Bearer <token>`; an organism's software uses an integration token (prc_…) created by its administrator, which acts as that administrator on the API only and is refused at once once revoked. Every answer is scoped to the caller: a trainee sees their own data, a doctor their own employees, staff their own organism. Errors have the shape {\"error\": {\"code\", \"message\", \"fields\"?}} with French messages."
        },
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "A one-hour JWT from POST /auth/token, or an organism's integration token (prc_…) created on its page of API tokens"}},
            "schemas": schemas()
        },
        "paths": paths()
    })
}

/// A published cohort as the catalogue's API gives it.
fn catalogue_cohort() -> Value {
    let s = json!({"type": "string"});
    let i = json!({"type": "integer"});
    json!({"type": "object", "properties": {
        "id": i, "organism_id": i, "organism": s, "cohort": s,
        "programme": {"type": "string", "enum": ["cqp", "fae"]}, "programme_label": s, "programme_title": s,
        "start_date": {"type": "string", "format": "date"}, "end_date": {"type": "string", "format": "date"},
        "starts": s, "ends": s, "city": s, "region": s, "region_label": s,
        "distance_percent": i, "seats": i, "seats_left": i, "price_cents": i, "price": s,
        "funding_routes": {"type": "array", "items": {"type": "string", "enum": ["opco-ep", "france-travail", "employeur", "autofinancement", "autre"]}},
        "funding_labels": {"type": "array", "items": s}, "contact_email": s, "contact_phone": s
    }})
}

/// The shapes named by `$ref`.
fn schemas() -> Value {
    let xapi_export = json!({"type": "object", "required": ["from", "to", "count", "statements"], "properties": {
        "from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"}, "count": {"type": "integer"},
        "statements": {"type": "array", "items": {"type": "object", "required": ["id", "actor", "verb", "object", "timestamp"], "properties": {
            "id": {"type": "string", "format": "uuid"}, "actor": {"type": "object"}, "verb": {"type": "object"}, "object": {"type": "object"},
            "result": {"type": "object"}, "context": {"type": "object"}, "timestamp": {"type": "string", "format": "date-time"}}}}
    }});
    json!({
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
                "code": {"type": "string", "enum": ["not_found", "unauthenticated", "forbidden", "invalid_input", "conflict", "too_many_requests", "unavailable", "unsupported_media_type", "internal"]},
                "message": {"type": "string"},
                "fields": {"type": "array", "items": {"type": "object", "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}},
                "lines": {"type": "array", "items": {"type": "object", "properties": {"line": {"type": "integer"}, "column": {"type": "string"}, "message": {"type": "string"}}}}
            }}}
        },
        "XapiExport": xapi_export,
        "CatalogueCohort": catalogue_cohort(),
        "Token": {"type": "object", "required": ["token", "token_type", "expires_at"], "properties": {
            "token": {"type": "string"}, "token_type": {"type": "string", "enum": ["Bearer"]}, "expires_at": {"type": "integer", "description": "Unix time"}
        }},
        "Me": {"type": "object", "required": ["id", "email", "name", "role"], "properties": {
            "id": {"type": "integer"}, "email": {"type": "string"}, "name": {"type": "string"},
            "role": {"type": "string", "enum": ["admin", "organism_admin", "trainer", "trainee", "doctor"]},
            "organism_id": {"type": "integer", "nullable": true}
        }},
        "Attempt": {"type": "object", "required": ["id", "attempt_no", "status", "question_count"], "properties": {
            "id": {"type": "integer"}, "module_id": {"type": "integer"}, "attempt_no": {"type": "integer"},
            "status": {"type": "string", "enum": ["open", "submitted"]},
            "score_pct": {"type": "integer", "nullable": true}, "passed": {"type": "boolean", "nullable": true},
            "correct_count": {"type": "integer", "nullable": true}, "question_count": {"type": "integer"},
            "started_at": {"type": "string"}, "submitted_at": {"type": "string", "nullable": true}
        }},
        "Answers": {"type": "object", "required": ["answers"], "properties": {"answers": {
            "type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "description": "Chosen choice ids by question id"
        }}},
        "CohortInput": {"type": "object", "required": ["name", "program", "start_date", "end_date"], "properties": {
            "name": {"type": "string"}, "program": {"type": "string", "example": "CQP-AM"},
            "start_date": {"type": "string", "format": "date"}, "end_date": {"type": "string", "format": "date"}
        }},
        "VersionMove": {"type": "object", "required": ["version"], "properties": {
            "version": {"type": "integer", "minimum": 1, "description": "The number of the programme's current version, as the caller last read it"}
        }},
        "VaeState": {"type": "string", "enum": ["deposee", "en_examen", "recevable", "non_recevable", "livret2_depose", "jury_planifie", "decision", "abandonnee"]},
        "VaeTransition": {"type": "object", "required": ["action"], "properties": {
            "action": {"type": "string", "enum": ["examine", "accept", "reject", "deposit_livret2", "plan_jury", "decide", "abandon"]},
            "note": {"type": "string"}, "reasons": {"type": "string", "description": "Required to reject"},
            "jury_date": {"type": "string", "format": "date"}, "jury_time": {"type": "string", "example": "14:30", "description": "Paris time"},
            "jury_place": {"type": "string"}, "outcome": {"type": "string", "enum": ["total", "partial", "none"]},
            "validated": {"type": "array", "items": {"type": "string"}, "description": "Module codes validated by a partial decision"},
            "recommendations": {"type": "string"}
        }},
        "Heartbeat": {"type": "object", "required": ["page", "view", "seq"], "properties": {
            "page": {"type": "string", "enum": ["activity", "lesson", "evaluation"], "description": "activity: a lesson, quiz, assignment or resource page (lesson is its former name)"},
            "lesson_id": {"type": "integer", "format": "int64", "description": "The activity's id; required when page is activity"},
            "module": {"type": "string", "description": "Module code, required when page is evaluation"},
            "view": {"type": "string", "pattern": "^[A-Za-z0-9-]{1,64}$", "description": "Id of this page view"},
            "seq": {"type": "integer", "minimum": 0, "maximum": 1000000}
        }},
        "HeartbeatAnswer": {"type": "object", "required": ["outcome", "credited_seconds"], "properties": {
            "outcome": {}, "credited_seconds": {"type": "integer"}, "session_seconds": {"type": "integer"}
        }},
        "ImportSummary": {"type": "object", "properties": {
            "created": {"type": "integer"}, "updated": {"type": "integer"}, "unchanged": {"type": "integer"},
            "doctors_invited": {"type": "integer"}, "warnings": {"type": "array", "items": {"type": "string"}},
            "information": {"type": "array", "items": {"type": "string"}}
        }}
    })
}

/// Every operation, by path.
fn paths() -> Value {
    let object = json!({"type": "object"});
    let list = json!({"type": "array", "items": {"type": "object"}});
    let xapi = secured(
        json!({"summary": "The organism's distance study by day and module, lessons completed, evaluation results and completed paths as xAPI 1.0.3 statements (stable ids: exporting twice gives the same statements)", "parameters": [id_param("id", "Organism id"),
                {"name": "from", "in": "query", "required": false, "description": "First day, YYYY-MM-DD (default: 29 days before `to`)", "schema": {"type": "string", "format": "date"}},
                {"name": "to", "in": "query", "required": false, "description": "Last day, YYYY-MM-DD (default: today); 366 days at most", "schema": {"type": "string", "format": "date"}}],
                "responses": {"200": ok("Statements", json!({"$ref": "#/components/schemas/XapiExport"})), "422": error_response("Invalid or too long period")}}),
    );
    let mut paths = json!({
        "/auth/token": {"post": {
            "summary": "Exchange an e-mail and password for a one-hour Bearer token",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["email", "password"], "properties": {"email": {"type": "string"}, "password": {"type": "string"}}}}}},
            "responses": {
                "200": ok("A token", json!({"$ref": "#/components/schemas/Token"})),
                "401": error_response("Wrong e-mail or password"),
                "403": error_response("Account disabled"),
                "422": error_response("Malformed body"),
                "429": error_response("Too many attempts; see Retry-After")
            }
        }},
        "/me": {"get": secured(json!({"summary": "The signed-in person", "responses": {"200": ok("Who am I", json!({"$ref": "#/components/schemas/Me"}))}}))},
        "/programs": {"get": secured(json!({"summary": "Programmes and their modules", "responses": {"200": ok("Programmes", list.clone())}}))},
        "/programs/{program}": {"get": secured(json!({"summary": "One programme with modules and lessons", "parameters": [text_param("program", "Programme code, e.g. CQP-AM")], "responses": {"200": ok("Programme", object.clone()), "404": error_response("Unknown programme")}}))},
        "/programs/{program}/modules/{module}/lessons/{slug}": {"get": secured(json!({"summary": "A lesson as HTML", "parameters": [text_param("program", "Programme code"), text_param("module", "Module code"), text_param("slug", "Lesson slug")], "responses": {"200": ok("Lesson", object.clone()), "404": error_response("Unknown lesson")}}))},
        "/programs/{program}/modules/{module}/evaluation": {"get": secured(json!({"summary": "A module's evaluation, without answers", "parameters": [text_param("program", "Programme code"), text_param("module", "Module code")], "responses": {"200": ok("Evaluation", object.clone()), "404": error_response("No evaluation")}}))},
        "/programs/{program}/modules/{module}/evaluation/attempts": {"post": secured(json!({"summary": "Start (or resume) an attempt", "parameters": [text_param("program", "Programme code"), text_param("module", "Module code")], "responses": {"201": ok("The open attempt and its questions", object.clone()), "422": error_response("No attempt left")}}))},
        "/attempts": {"get": secured(json!({"summary": "My attempts", "responses": {"200": ok("Attempts", json!({"type": "array", "items": {"$ref": "#/components/schemas/Attempt"}}))}}))},
        "/attempts/{id}/submit": {"post": secured(json!({"summary": "Submit answers; submitting again returns the first result", "parameters": [id_param("id", "Attempt id")],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Answers"}}}},
            "responses": {"200": ok("The scored attempt", json!({"$ref": "#/components/schemas/Attempt"})), "404": error_response("Unknown attempt"), "422": error_response("Unknown question or choice")}}))},
        "/organisms/{id}/cohorts": {
            "get": secured(json!({"summary": "An organism's cohorts", "parameters": [id_param("id", "Organism id")], "responses": {"200": ok("Cohorts", list.clone())}})),
            "post": secured(json!({"summary": "Create a cohort (its length must fit the programme)", "parameters": [id_param("id", "Organism id")],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CohortInput"}}}},
                "responses": {"201": ok("The cohort", object.clone()), "422": error_response("Invalid dates or programme")}}))
        },
        "/cohorts/{id}": {"get": secured(json!({"summary": "A cohort, with the programme version it follows (content_version_id, and version_number: 0 for a programme with no published version)", "parameters": [id_param("id", "Cohort id")], "responses": {"200": ok("Cohort", object.clone()), "404": error_response("Unknown, or not the caller's organism")}}))},
        "/cohorts/{id}/trainees": {"get": secured(json!({"summary": "A cohort's trainees with their deadline", "parameters": [id_param("id", "Cohort id")], "responses": {"200": ok("Trainees", list.clone())}}))},
        "/cohorts/{id}/import": {"post": secured(json!({"summary": "Import trainees from a CSV file (all or nothing). Enrolling into a cohort under way with less than the programme's minimum length left needs `confirm=true`", "parameters": [id_param("id", "Cohort id"), {"name": "confirm", "in": "query", "required": false, "description": "Staff confirm late enrolments (less than the programme's minimum length left)", "schema": {"type": "boolean", "default": false}}],
            "requestBody": {"required": true, "content": {"text/csv": {"schema": {"type": "string", "format": "binary"}}, "application/vnd.ms-excel": {"schema": {"type": "string", "format": "binary"}}}},
            "responses": {"200": ok("What was imported", json!({"$ref": "#/components/schemas/ImportSummary"})), "409": error_response("`confirmation_required`: late enrolments, or trainees whose certification deadline falls before the cohort's end, not confirmed; nothing imported"), "415": error_response("Not sent as text/csv"), "422": error_response("Refused, with every error by line and column")}}))},
        "/cohorts/{id}/version": {"post": secured(json!({"summary": "Move a cohort on to its programme's current version (an administrator of its organism); recorded hours, attempts and progress stay as they are (audited)", "parameters": [id_param("id", "Cohort id")],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/VersionMove"}}}},
            "responses": {"200": ok("The cohort, now on that version", object.clone()), "403": error_response("Not an administrator of the cohort's organism"), "404": error_response("Unknown, or not the caller's organism"), "409": error_response("`version` is not the programme's current version (another was published since) or the cohort already follows it: nothing changed"), "422": error_response("Malformed body")}}))},
        "/trainees/{id}": {"get": secured(json!({"summary": "A trainee (staff of their organism, or their employer doctor)", "parameters": [id_param("id", "Trainee id")], "responses": {"200": ok("Trainee", object.clone()), "404": error_response("Unknown, or not yours")}}))},
        "/trainees/{id}/transfer": {"post": secured(json!({"summary": "Transfer a trainee to another cohort of their organism, today (an administrator of the organism; audited). Into a cohort under way with less than the programme's minimum length left, staff must confirm: `confirm: true`", "parameters": [id_param("id", "Trainee id")],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["cohort_id"], "properties": {"cohort_id": {"type": "integer", "format": "int64"}, "confirm": {"type": "boolean", "default": false, "description": "Staff confirm a stay shorter than the programme's minimum length"}}}}}},
            "responses": {"200": ok("The new enrolment", object.clone()), "403": error_response("Not an administrator of the trainee's organism"), "404": error_response("Unknown, or not the caller's organism"), "409": error_response("`confirmation_required`: less than the programme's minimum length is left in that cohort, or it ends after the trainee's certification deadline; nothing changed, send again with `confirm: true`"), "422": error_response("Not another cohort of the organism")}}))},
        "/trainees/{id}/proa-suspensions": {"post": secured(json!({"summary": "Add a window of ProA funding suspension (staff of the trainee's organism; audited). Only a trainee funded through ProA and hired from 22/06/2024 can have one; several windows are kept. The delay stops on `from` and runs again on `to`", "parameters": [id_param("id", "Trainee id")],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["from", "reason"], "properties": {"from": {"type": "string", "description": "YYYY-MM-DD or DD/MM/YYYY"}, "to": {"type": "string", "description": "Empty or absent while the suspension lasts"}, "reason": {"type": "string", "maxLength": 500}}}}}},
            "responses": {"201": ok("The trainee with her deadline, and `suspension_id`", object.clone()), "403": error_response("The employer doctor"), "404": error_response("Unknown, or not the caller's organism"), "422": error_response("Not funded through ProA, hired before 22/06/2024, a date before the hire or not a date, no reason, or another window still open: nothing changed")}}))},
        "/trainees/{id}/proa-suspensions/{window}/end": {"post": secured(json!({"summary": "End an open ProA suspension window (audited)", "parameters": [id_param("id", "Trainee id"), id_param("window", "Window id")],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["to"], "properties": {"to": {"type": "string", "description": "YYYY-MM-DD or DD/MM/YYYY, after the window's start"}}}}}},
            "responses": {"200": ok("The trainee with her deadline", object.clone()), "403": error_response("The employer doctor"), "404": error_response("Unknown window, or not this trainee's"), "422": error_response("Already ended, or an end not after the start: nothing changed")}}))},
        "/me/assistants": {"get": secured(json!({"summary": "A doctor's assistants in training", "responses": {"200": ok("Assistants", list.clone())}}))},
        "/vae/requests": {"get": secured(json!({"summary": "VAE files: the organism's for its staff, one's own for a candidate", "parameters": [{"name": "state", "in": "query", "required": false, "description": "Only files in this state", "schema": {"$ref": "#/components/schemas/VaeState"}}], "responses": {"200": ok("Files", list.clone()), "422": error_response("Unknown state")}}))},
        "/vae/requests/{id}": {"get": secured(json!({"summary": "A VAE file with its periods, documents and history", "parameters": [id_param("id", "File id")], "responses": {"200": ok("File", object.clone()), "404": error_response("Unknown, or not in the caller's scope")}}))},
        "/vae/requests/{id}/transitions": {"post": secured(json!({"summary": "Move a VAE file one step (audited; the candidate is mailed)", "parameters": [id_param("id", "File id")],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/VaeTransition"}}}},
            "responses": {"200": ok("The new state", object.clone()), "404": error_response("Unknown, or not in the caller's scope"), "409": error_response("Not allowed from the current state, or not the caller's to take"), "422": error_response("Missing reasons, jury date or place, an inconsistent decision, recevable without the livret 1 (CERFA 12818), or a decision before the jury's time")}}))},
        "/organisms/{id}/certification/sessions": {"get": secured(json!({"summary": "The organism's CQP certification sessions (its staff): day, place, jury and blocs assessed (module codes), the latest first", "parameters": [id_param("id", "Organism id")], "responses": {"200": ok("Sessions", object.clone()), "404": error_response("Unknown, or not the caller's organism")}}))},
        "/certification/sessions/{id}": {"get": secured(json!({"summary": "A certification session with its candidates, the blocs each is registered for, the derogation's reason if any, and the results per bloc (acquired, not_acquired, absent)", "parameters": [id_param("id", "Session id")], "responses": {"200": ok("Session", object.clone()), "404": error_response("Unknown, or not the caller's organism")}}))},
        "/trainees/{id}/certification": {"get": secured(json!({"summary": "A CQP trainee's blocs (acquired at a session or by a VAE decision, or still to pass) and the CQP obtained (staff of her organism, or her employer doctor)", "parameters": [id_param("id", "Trainee id")], "responses": {"200": ok("Certification record", object.clone()), "404": error_response("Unknown, or not in the caller's scope")}}))},
        "/me/certification": {"get": secured(json!({"summary": "The signed-in trainee's own certification record: her CQP's blocs (state acquired, not_acquired, absent or to_pass, with the session or VAE decision behind it and the session she is registered for next), the sessions she is registered for with her blocs and results there, and her CQP when recorded. An FAE trainee has no certification: empty blocs", "responses": {"200": ok("Her certification record", object.clone()), "403": error_response("Not a trainee")}}))},
        "/organisms/{id}/vae/counts": {"get": secured(json!({"summary": "How many VAE files of the organism are in each state", "parameters": [id_param("id", "Organism id")], "responses": {"200": ok("Counts by state", list.clone())}}))},
        "/study/heartbeats": {"post": secured(json!({"summary": "A trainee's study heartbeat from an activity or evaluation page (credited at most once per interval)",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Heartbeat"}}}},
            "responses": {"200": ok("What was credited", json!({"$ref": "#/components/schemas/HeartbeatAnswer"})), "422": error_response("Unknown page, lesson or module; malformed view id or sequence")}}))},
        "/me/hours": {"get": secured(json!({"summary": "A trainee's own hours by module, with the deadline", "responses": {"200": ok("Hours", object.clone())}}))},
        "/cohorts/{id}/progress": {"get": secured(json!({"summary": "Hours and status of every trainee of a cohort (its staff only)", "parameters": [id_param("id", "Cohort id")], "responses": {"200": ok("Progress", list.clone()), "404": error_response("Unknown, or not the caller's organism")}}))},
        "/trainees/{id}/hours": {"get": secured(json!({"summary": "A trainee's hours by module (staff of their organism, or their employer doctor)", "parameters": [id_param("id", "Trainee id")], "responses": {"200": ok("Hours", object.clone()), "404": error_response("Unknown, or not in the caller's scope")}}))},
        "/organisms/{id}/xapi": {"get": xapi},
        "/openapi.json": {"get": {"summary": "This document", "responses": {"200": ok("OpenAPI 3 document", object)}}}
    });
    if let Some(all) = paths.as_object_mut() {
        all.extend(catalogue_paths());
    }
    paths
}

/// The public catalogue: no token needed.
fn catalogue_paths() -> serde_json::Map<String, Value> {
    let query = |name: &str, description: &str| json!({"name": name, "in": "query", "required": false, "description": description, "schema": {"type": "string"}});
    let filters = json!([
        query(
            "region",
            "A region's slug, e.g. `ile-de-france`, `auvergne-rhone-alpes`"
        ),
        query("programme", "`cqp` or `fae`"),
        query("mois", "Start month, YYYY-MM"),
        query("distance", "Minimum share of distance hours, 0 to 100")
    ]);
    let card = json!({"$ref": "#/components/schemas/CatalogueCohort"});
    let one = json!({"type": "object", "properties": {
        "cohort": card,
        "rhythm": {"type": "string", "nullable": true, "description": "The in-person days, e.g. `12 journées en présentiel, environ 2 par mois`"},
        "training_days": {"type": "array", "items": {"type": "string", "format": "date"}},
        "qualiopi": {"type": "object", "description": "The organism's success and drop-out rates of its latest year with a finished path (`year` null: no figure yet)", "properties": {"year": {"type": "integer", "nullable": true}, "success_rate": {"type": "number", "nullable": true}, "dropout_rate": {"type": "number", "nullable": true}, "success": {"type": "string"}, "dropout": {"type": "string"}, "completions": {"type": "integer"}, "dropouts": {"type": "integer"}}}
    }});
    let mut m = serde_json::Map::new();
    m.insert("/catalogue".into(), json!({"get": {"summary": "Published upcoming cohorts of every organism, by start date (public, no token)", "parameters": filters, "responses": {"200": ok("Cohorts", json!({"type": "object", "properties": {"cohorts": {"type": "array", "items": card}}})), "422": error_response("Invalid filter (French message per field)")}}}));
    m.insert("/catalogue/{id}".into(), json!({"get": {"summary": "One published upcoming cohort with its calendar rhythm and its organism's Qualiopi figures (public, no token)", "parameters": [id_param("id", "Cohort id")], "responses": {"200": ok("Cohort", one), "404": error_response("Unknown, unpublished or already started")}}}));
    m
}

pub async fn serve() -> HttpResponse {
    HttpResponse::Ok().json(document())
}

/// One operation, flattened for the readable page.
#[derive(serde::Serialize)]
struct Operation {
    method: String,
    path: String,
    summary: String,
    secured: bool,
    parameters: Vec<String>,
    body: Option<String>,
    responses: Vec<(String, String)>,
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

fn operations(doc: &Value) -> Vec<Operation> {
    let mut ops = Vec::new();
    let Some(paths) = doc["paths"].as_object() else {
        return ops;
    };
    for (path, item) in paths {
        let Some(methods) = item.as_object() else {
            continue;
        };
        for (method, op) in methods {
            let parameters = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| {
                    format!(
                        "{} ({}) : {}",
                        text(&p["name"]),
                        text(&p["in"]),
                        text(&p["description"])
                    )
                })
                .collect();
            let body = op["requestBody"]["content"]
                .as_object()
                .and_then(|c| c.keys().next().cloned());
            let responses = op["responses"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(code, r)| (code.clone(), text(&r["description"])))
                .collect();
            ops.push(Operation {
                method: method.to_uppercase(),
                path: path.clone(),
                summary: text(&op["summary"]),
                secured: op.get("security").is_some(),
                parameters,
                body,
                responses,
            });
        }
    }
    ops
}

/// The same document as a page a person can read, without any script.
pub async fn page(
    req: actix_web::HttpRequest,
    state: crate::web::State,
) -> crate::web::AppResult<HttpResponse> {
    let doc = document();
    let mut ctx = crate::web::context(&req);
    ctx.insert("description", &doc["info"]["description"]);
    ctx.insert("operations", &operations(&doc));
    state.render("api_docs.html", &ctx)
}
