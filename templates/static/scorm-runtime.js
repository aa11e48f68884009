// The SCORM run-time API (`API` for 1.2, `API_1484_11` for 2004) of the packages' host page.
// It follows `Runtime` in src/scorm/datamodel/runtime.rs call for call (same values, same
// error codes), from the element table the page serves, so that table is the one source of
// truth; tests/browser/scorm_runtime.rs compares the two. It must run before the SCO's frame
// loads, since a SCO looks for its API as soon as it starts.
(function () {
  "use strict";

  var launch = JSON.parse(document.getElementById("parcours-launch").textContent);
  var defs = launch.definitions;
  var V12 = defs.version === "scorm12";
  var MAX_ENTRIES = launch.max_entries;
  var commitUrl = launch.commit_url;

  // Codes that differ between the versions for the same situation (`CODES_12`, `CODES_2004`).
  var CODES = V12
    ? {
        notRunningGet: 301, afterGet: 301, notRunningSet: 301, afterSet: 301,
        badNameGet: 201, badNameSet: 201, unknown: 201, noChildren: 202, noCount: 203,
        keywordSet: 402, readOnly: 403, writeOnly: 404, badIndexGet: 201,
        badIndexSet: 201, notSet: 0, wrongType: 405, outOfRange: 405
      }
    : {
        notRunningGet: 122, afterGet: 123, notRunningSet: 132, afterSet: 133,
        badNameGet: 301, badNameSet: 351, unknown: 401, noChildren: 301, noCount: 301,
        keywordSet: 404, readOnly: 404, writeOnly: 405, badIndexGet: 301,
        badIndexSet: 351, notSet: 403, wrongType: 406, outOfRange: 407
      };
  var NOT_RUNNING = 0, RUNNING = 1, TERMINATED = 2;

  var elements = defs.elements.map(function (e) {
    return { e: e, pattern: e.name.split(".") };
  });
  var values = Object.create(null);
  var written = Object.create(null);
  Object.keys(launch.start.values).forEach(function (k) {
    values[k] = launch.start.values[k];
  });
  launch.start.written.forEach(function (k) {
    written[k] = true;
  });
  var state = NOT_RUNNING;
  var error = 0;
  var diagnostic = "";

  // ---- Value types (src/scorm/datamodel/types.rs) ----

  var DIGITS = /^[0-9]*$/;

  function decimal(value) {
    var digits = value.charAt(0) === "-" ? value.slice(1) : value;
    var dot = digits.indexOf(".");
    var whole = dot < 0 ? digits : digits.slice(0, dot);
    var fraction = dot < 0 ? null : digits.slice(dot + 1);
    var ok = DIGITS.test(whole) &&
      (fraction === null || (fraction !== "" && DIGITS.test(fraction))) &&
      (whole !== "" || fraction !== null);
    if (!ok) return null;
    var v = Number(value);
    return isFinite(v) ? v : null;
  }

  function integer(value) {
    var digits = value.charAt(0) === "-" ? value.slice(1) : value;
    if (digits === "" || digits.length > 9 || !DIGITS.test(digits)) return null;
    return Number(value);
  }

  function twoDigits(s) {
    return /^[0-9]{2}$/.test(s) ? Number(s) : null;
  }

  function digitsIn(s, low, high) {
    var v = twoDigits(s);
    return v !== null && v >= low && v <= high;
  }

  function seconds12(s) {
    var dot = s.indexOf(".");
    var w = twoDigits(dot < 0 ? s : s.slice(0, dot));
    if (w === null) return false;
    if (dot >= 0 && !/^[0-9]{1,2}$/.test(s.slice(dot + 1))) return false;
    return w < 60;
  }

  function timespan12(value) {
    var p = value.split(":");
    return p.length === 3 && /^[0-9]{2,4}$/.test(p[0]) &&
      digitsIn(p[1], 0, 59) && seconds12(p[2]);
  }

  function clock12(value) {
    var p = value.split(":");
    return p.length === 3 && digitsIn(p[0], 0, 23) && digitsIn(p[1], 0, 59) &&
      seconds12(p[2]);
  }

  // Units in order, each once, a number before each; a fraction only on the seconds.
  function durationPart(part, units, fractionLast) {
    var number = "", next = 0;
    for (var i = 0; i < part.length; i++) {
      var c = part.charAt(i);
      if (/[0-9]/.test(c) || (c === "." && fractionLast)) {
        number += c;
        continue;
      }
      var position = units.indexOf(c, next);
      if (position < 0 || number === "") return false;
      if (number.indexOf(".") >= 0 && c !== "S") return false;
      if (decimal(number) === null) return false;
      number = "";
      next = position + 1;
    }
    return number === "";
  }

  function duration(value) {
    if (value.charAt(0) !== "P") return false;
    var rest = value.slice(1);
    var t = rest.indexOf("T");
    var date = t < 0 ? rest : rest.slice(0, t);
    var time = t < 0 ? null : rest.slice(t + 1);
    if (time === "") return false;
    if (date === "" && time === null) return false;
    return durationPart(date, "YMD", false) &&
      (time === null || durationPart(time, "HMS", true));
  }

  function timestamp(value) {
    var t = value.indexOf("T");
    var date = t < 0 ? value : value.slice(0, t);
    var f = date.split("-");
    var year = /^[0-9]{4}$/.test(f[0]);
    var dateOk = f.length === 1 ? year
      : f.length === 2 ? year && digitsIn(f[1], 1, 12)
      : f.length === 3 ? year && digitsIn(f[1], 1, 12) && digitsIn(f[2], 1, 31)
      : false;
    if (t < 0) return dateOk;
    if (f.length !== 3 || !dateOk) return false;
    var time = value.slice(t + 1);
    // The zone is allowed only after seconds.
    var z = time.search(/[Z+\-]/);
    var clock = z < 0 ? time : time.slice(0, z);
    var zone = z < 0 ? null : time.slice(z);
    var p = clock.split(":");
    var clockOk;
    if (p.length === 1) {
      clockOk = digitsIn(p[0], 0, 23);
    } else if (p.length === 2) {
      clockOk = digitsIn(p[0], 0, 23) && digitsIn(p[1], 0, 59);
    } else if (p.length === 3) {
      var dot = p[2].indexOf(".");
      var whole = dot < 0 ? p[2] : p[2].slice(0, dot);
      clockOk = digitsIn(p[0], 0, 23) && digitsIn(p[1], 0, 59) && digitsIn(whole, 0, 59) &&
        (dot < 0 || /^[0-9]{1,2}$/.test(p[2].slice(dot + 1)));
    } else {
      clockOk = false;
    }
    var zoneOk = true;
    if (zone !== null) {
      var offset = zone.slice(1);
      var colon = offset.indexOf(":");
      var h = colon < 0 ? offset : offset.slice(0, colon);
      var m = colon < 0 ? "00" : offset.slice(colon + 1);
      zoneOk = p.length === 3 && (zone === "Z" || (zone.charAt(0) !== "Z" &&
        digitsIn(h, 0, 23) && digitsIn(m, 0, 59)));
    }
    return clockOk && zoneOk;
  }

  // Rust's `char::is_whitespace` and `char::is_control`.
  var SPACE_OR_CONTROL = /[\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;

  function identifier(value) {
    return value !== "" && !SPACE_OR_CONTROL.test(value);
  }

  function language(value) {
    return value === "" || value.split("-").every(function (part, i) {
      return (i === 0 ? /^[A-Za-z]{1,8}$/ : /^[A-Za-z0-9]{1,8}$/).test(part);
    });
  }

  function withoutLanguage(value) {
    if (value.indexOf("{lang=") !== 0) return value;
    var rest = value.slice(6);
    var close = rest.indexOf("}");
    if (close < 0 || !language(rest.slice(0, close))) return null;
    return rest.slice(close + 1);
  }

  function navRequest(value, vocabulary) {
    if (vocabulary.indexOf(value) >= 0) return true;
    if (value.indexOf("{target=") !== 0) return false;
    var rest = value.slice(8);
    var close = rest.indexOf("}");
    if (close < 0) return false;
    var action = rest.slice(close + 1);
    return identifier(rest.slice(0, close)) && (action === "choice" || action === "jump");
  }

  // Characters as Rust counts them (code points), not UTF-16 units.
  function chars(text) {
    var n = 0;
    for (var i = 0; i < text.length; i++) {
      var c = text.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
        var d = text.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) i++;
      }
      n++;
    }
    return n;
  }

  var TYPE = "type", RANGE = "range";

  function within(v, range) {
    return range && (v < range[0] || v > range[1]) ? RANGE : null;
  }

  function length(text, maxLen) {
    return maxLen != null && chars(text) > maxLen ? RANGE : null;
  }

  // null when the value fits, else TYPE or RANGE (`types::check`).
  function check(e, value) {
    var vocabulary = e.vocabulary || [];
    var v;
    switch (e.type) {
      case "text":
        return length(value, e.max_len);
      case "localized_text":
        v = withoutLanguage(value);
        return v === null ? TYPE : length(v, e.max_len);
      case "language":
        return language(value) ? length(value, e.max_len) : TYPE;
      case "identifier":
        return identifier(value) ? length(value, e.max_len) : TYPE;
      case "decimal_or_blank":
        if (value === "") return null;
        v = decimal(value);
        return v === null ? TYPE : within(v, e.range);
      case "decimal":
        v = decimal(value);
        return v === null ? TYPE : within(v, e.range);
      case "integer":
        v = integer(value);
        return v === null ? TYPE : within(v, e.range);
      case "vocabulary":
        return vocabulary.indexOf(value) >= 0 ? null : TYPE;
      case "vocabulary_or_decimal":
        return vocabulary.indexOf(value) >= 0 || decimal(value) !== null ? null : TYPE;
      case "timespan":
        return timespan12(value) ? null : TYPE;
      case "clock_time":
        return clock12(value) ? null : TYPE;
      case "duration":
        return duration(value) ? null : TYPE;
      case "timestamp":
        return timestamp(value) ? null : TYPE;
      case "nav_request":
        return navRequest(value, vocabulary) ? null : TYPE;
      default:
        // Keywords, and any type this script does not know: refused, never stored.
        return TYPE;
    }
  }

  // ---- Names (src/scorm/datamodel/mod.rs) ----

  function index(segment) {
    return /^(0|[1-9][0-9]{0,5})$/.test(segment);
  }

  // The element a concrete name is an instance of, or null.
  function find(name) {
    var segments = name.split(".");
    for (var i = 0; i < elements.length; i++) {
      var pattern = elements[i].pattern;
      if (pattern.length !== segments.length) continue;
      var ok = true;
      for (var j = 0; ok && j < pattern.length; j++) {
        ok = pattern[j] === "n" ? index(segments[j]) : pattern[j] === segments[j];
      }
      if (ok) return elements[i].e;
    }
    return null;
  }

  function has(name) {
    return Object.prototype.hasOwnProperty.call(values, name);
  }

  // The number of entries of an array: one more than its highest index.
  function count(array) {
    var prefix = array + ".", max = -1;
    Object.keys(values).forEach(function (k) {
      if (k.indexOf(prefix) !== 0) return;
      var segment = k.slice(prefix.length).split(".")[0];
      if (/^[0-9]+$/.test(segment)) max = Math.max(max, Number(segment));
    });
    return max + 1;
  }

  // For each index of a concrete name, its array and the index.
  function arrays(e, name) {
    var pattern = e.name.split("."), segments = name.split("."), out = [];
    pattern.forEach(function (p, i) {
      if (p === "n") out.push([segments.slice(0, i).join("."), Number(segments[i])]);
    });
    return out;
  }

  function endsWith(s, suffix) {
    return s.length >= suffix.length && s.slice(s.length - suffix.length) === suffix;
  }

  // What an unknown name ending in a keyword is: a misuse (202, 203, 301) or unknown.
  function unknownCode(name) {
    function known(parent) {
      return !!(find(parent) || find(parent + "._count") || find(parent + "._children"));
    }
    if (endsWith(name, "._children") && known(name.slice(0, -10))) return CODES.noChildren;
    if (endsWith(name, "._count") && known(name.slice(0, -7))) return CODES.noCount;
    return CODES.unknown;
  }

  function errorString(code) {
    for (var i = 0; i < defs.errors.length; i++) {
      if (defs.errors[i].code === code) return defs.errors[i].text;
    }
    return "";
  }

  function number(name) {
    return has(name) ? decimal(values[name]) : null;
  }

  // 2004: with a threshold (or passing score) and a measure (or scaled score), the status
  // follows them (`evaluated_completion`, `evaluated_success`).
  function evaluated(name) {
    var completion = name === "cmi.completion_status";
    var limit = number(completion ? "cmi.completion_threshold" : "cmi.scaled_passing_score");
    var measure = number(completion ? "cmi.progress_measure" : "cmi.score.scaled");
    if (limit !== null && measure !== null) {
      if (completion) return measure >= limit ? "completed" : "incomplete";
      return measure >= limit ? "passed" : "failed";
    }
    return has(name) ? values[name] : null;
  }

  // ---- The calls (`Runtime`) ----

  function fail(code, text) {
    error = code;
    diagnostic = text;
  }

  function succeed() {
    error = 0;
    diagnostic = "";
  }

  // The SCO's arguments as strings: some SCOs pass numbers, or nothing for "".
  function str(x) {
    return x === undefined || x === null ? "" : String(x);
  }

  function initialize(arg) {
    if (str(arg) !== "") {
      fail(201, "L'argument doit être une chaîne vide.");
      return false;
    }
    var code = state === NOT_RUNNING ? 0 : V12 ? 101 : state === RUNNING ? 103 : 104;
    if (code !== 0) {
      fail(code, "Session déjà initialisée ou terminée.");
      return false;
    }
    state = RUNNING;
    succeed();
    return true;
  }

  function mayClose(arg, before, after) {
    if (str(arg) !== "") {
      fail(201, "L'argument doit être une chaîne vide.");
      return false;
    }
    var code = state === RUNNING ? 0 : V12 ? 301 : state === NOT_RUNNING ? before : after;
    if (code !== 0) {
      fail(code, "La session n'est pas en cours.");
      return false;
    }
    return true;
  }

  function refuse(code, name) {
    fail(code, errorString(code) + " : " + name);
    return "";
  }

  function getValue(name) {
    name = str(name);
    if (state === NOT_RUNNING) return refuse(CODES.notRunningGet, name);
    if (state === TERMINATED) return refuse(CODES.afterGet, name);
    if (name === "") return refuse(CODES.badNameGet, name);
    var e = find(name);
    if (!e) return refuse(unknownCode(name), name);
    if (e.access === "write_only") return refuse(CODES.writeOnly, name);
    var indices = arrays(e, name);
    for (var i = 0; i < indices.length; i++) {
      if (indices[i][1] >= count(indices[i][0])) return refuse(CODES.badIndexGet, name);
    }
    if (e.type === "keyword") {
      succeed();
      return e.value != null ? e.value : String(count(name.replace(/(\._count)+$/, "")));
    }
    var value = !V12 && (name === "cmi.completion_status" || name === "cmi.success_status")
      ? evaluated(name)
      : has(name) ? values[name] : null;
    if (value !== null) {
      succeed();
      return value;
    }
    if (CODES.notSet === 0) {
      succeed();
      return "";
    }
    return refuse(CODES.notSet, name);
  }

  // 2004: a record's `id` (then an interaction's `type`) comes first; objective ids are
  // unique in their array.
  function dependencies(e, name, value) {
    var indices = arrays(e, name);
    if (e.requires && indices.length > 0 &&
        !has(indices[0][0] + "." + indices[0][1] + "." + e.requires)) {
      return 408;
    }
    if (e.name === "cmi.objectives.n.id" || e.name === "cmi.interactions.n.objectives.n.id") {
      var segments = name.split(".");
      var prefix = segments.slice(0, -2).join(".") + ".";
      var depth = segments.length;
      var duplicate = Object.keys(values).some(function (k) {
        return k.indexOf(prefix) === 0 && endsWith(k, ".id") && k !== name &&
          values[k] === value && k.split(".").length === depth;
      });
      if (duplicate) return 351;
    }
    return 0;
  }

  // 0 when the value may be set, else the error code (`check_set`).
  function checkSet(name, value) {
    if (state === NOT_RUNNING) return CODES.notRunningSet;
    if (state === TERMINATED) return CODES.afterSet;
    if (name === "") return CODES.badNameSet;
    var e = find(name);
    if (!e) {
      var keyword = endsWith(name, "._children") || endsWith(name, "._count") ||
        endsWith(name, "._version");
      return keyword && unknownCode(name) !== CODES.unknown ? CODES.keywordSet : CODES.unknown;
    }
    if (e.type === "keyword") return CODES.keywordSet;
    if (e.access === "read_only") return CODES.readOnly;
    var indices = arrays(e, name);
    for (var i = 0; i < indices.length; i++) {
      if (indices[i][1] > count(indices[i][0]) || indices[i][1] >= MAX_ENTRIES) {
        return CODES.badIndexSet;
      }
    }
    if (!V12) {
      var code = dependencies(e, name, value);
      if (code) return code;
    }
    var refusal = check(e, value);
    if (refusal) return refusal === TYPE ? CODES.wrongType : CODES.outOfRange;
    // "not attempted" is the LMS's word in 1.2: the SCO may not set it.
    if (name === "cmi.core.lesson_status" && value === "not attempted") return CODES.wrongType;
    return 0;
  }

  function setValue(name, value) {
    name = str(name);
    value = str(value);
    var code = checkSet(name, value);
    if (code) {
      fail(code, errorString(code) + " : " + name + " = « " + value + " »");
      return false;
    }
    values[name] = value;
    written[name] = true;
    succeed();
    return true;
  }

  function snapshot() {
    var out = {};
    Object.keys(values).sort().forEach(function (k) {
      if (written[k]) out[k] = values[k];
    });
    return { version: defs.version, values: out };
  }

  // ---- Saving ----

  var status = { snapshot: snapshot, lastCommit: null, pending: false };
  var sent = 0;

  function bytes(text) {
    return unescape(encodeURIComponent(text)).length;
  }

  // Posts the latest snapshot; only the answer to the latest post counts, so an old failure
  // does not hide a newer success.
  function send(keepalive) {
    if (!commitUrl) return;
    var body = JSON.stringify(snapshot());
    var mine = ++sent;
    var done = function (code) {
      if (mine !== sent) return;
      status.lastCommit = { status: code };
      status.pending = !(code >= 200 && code < 300);
    };
    status.pending = true;
    try {
      fetch(commitUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: body,
        credentials: "omit",
        // Browsers refuse a keepalive body over 64 KiB.
        keepalive: keepalive && bytes(body) < 60000
      }).then(function (r) {
        done(r.status);
      }, function () {
        done(0);
      });
    } catch (e) {
      done(0);
    }
  }

  // A post that failed is sent again, with the latest values, when the page goes away.
  var retried = 0;
  function retry() {
    if (status.pending && retried !== sent) {
      retried = sent + 1;
      send(true);
    }
  }
  window.addEventListener("pagehide", retry);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") retry();
  });

  // ---- Messages to the player page ----

  var lastActivity = 0;

  function tell(event) {
    if (window.parent === window) return;
    try {
      window.parent.postMessage({ type: "parcours-package", event: event }, "*");
    } catch (e) {
      // The player page is gone: nothing to tell.
    }
  }

  // One message per 5 s is enough to know the learner is there.
  function activity() {
    var now = Date.now();
    if (now - lastActivity < 5000) return;
    lastActivity = now;
    tell("activity");
  }

  // The SCO's document (same origin as this page) is replaced at each load of the frame.
  var watchedDocument = null;
  function watchFrame() {
    var frame = document.getElementById("sco");
    if (!frame) return;
    if (!frame.parcoursWatched) {
      frame.parcoursWatched = true;
      frame.addEventListener("load", watchFrame);
    }
    try {
      var doc = frame.contentDocument;
      if (!doc || doc === watchedDocument) return;
      watchedDocument = doc;
      ["pointerdown", "keydown", "wheel", "touchstart"].forEach(function (type) {
        frame.contentWindow.addEventListener(type, activity, { capture: true, passive: true });
      });
    } catch (e) {
      // Another origin: its interactions are not ours to see.
    }
  }
  watchFrame();
  document.addEventListener("DOMContentLoaded", watchFrame);

  // ---- The API objects ----

  function result(ok, changes) {
    if (ok && changes) activity();
    return ok ? "true" : "false";
  }

  function commit(arg) {
    if (!mayClose(arg, 142, 143)) return "false";
    succeed();
    send(false);
    return result(true, true);
  }

  function terminate(arg) {
    if (!mayClose(arg, 112, 113)) return "false";
    state = TERMINATED;
    succeed();
    send(true);
    result(true, true);
    tell("terminated");
    return "true";
  }

  var api = {
    initialize: function (arg) {
      return result(initialize(arg), true);
    },
    get: function (name) {
      return getValue(name);
    },
    set: function (name, value) {
      return result(setValue(name, value), true);
    },
    lastError: function () {
      return String(error);
    },
    errorString: function (code) {
      code = str(code);
      return /^[0-9]{1,5}$/.test(code) ? errorString(Number(code)) : "";
    },
    diagnostic: function () {
      return diagnostic;
    }
  };

  if (V12) {
    window.API = {
      LMSInitialize: api.initialize,
      LMSGetValue: api.get,
      LMSSetValue: api.set,
      LMSCommit: commit,
      LMSFinish: terminate,
      LMSGetLastError: api.lastError,
      LMSGetErrorString: api.errorString,
      LMSGetDiagnostic: api.diagnostic
    };
  } else {
    window.API_1484_11 = {
      Initialize: api.initialize,
      GetValue: api.get,
      SetValue: api.set,
      Commit: commit,
      Terminate: terminate,
      GetLastError: api.lastError,
      GetErrorString: api.errorString,
      GetDiagnostic: api.diagnostic
    };
  }
  window.ParcoursScorm = status;
})();
