// grpcgw: start Swagger UI on the document this gateway serves, with a plugin that
// shows server streams (newline-delimited JSON, server-sent events) message by
// message, as they arrive, and puts a request-headers table in every Try-it form.
//
// Swagger UI reads a reply whole and shows an NDJSON body as "can't parse JSON".
// The plugin uses Swagger UI's own extension points, nothing patched:
// - wrapActions.executeRequest hands swagger-client a fetch of ours (its
//   `userFetch`), which splits a stream's body in two (ReadableStream.tee): one
//   branch goes to Swagger UI as usual, the other is parsed as it comes;
// - wrapComponents.responses shows the messages parsed so far while the stream
//   is open (Swagger UI shows nothing until a reply is complete);
// - wrapComponents.responseBody shows a finished stream as its messages, each
//   as JSON, an error line or event as an error;
// - wrapComponents.execute keeps "Execute" pressable while the operation's stream
//   is open (Swagger UI disables it until a reply is complete): pressing it again
//   aborts the earlier request (its AbortController), so the page stops reading
//   it and the server sees the client leave, and only the new reply is shown.
//
// Request headers (Swagger UI has no general header editor, only Authorize):
// - wrapComponents.parameters adds one table of name/value rows below an
//   operation's parameters in Try-it mode; the rows are the page's, shared by
//   every operation, in memory only (as Authorize keeps credentials);
// - a row is checked as it is typed (an RFC 9110 token for a name; no CR, LF,
//   NUL or other control character, nothing beyond Latin-1, in a value; none of
//   the names fetch forbids), and while one has a problem "Execute" is off,
//   with the reason beside the row and above the button;
// - the Try-it fetch of each call carries a snapshot of the rows, which
//   Swagger UI's requestInterceptor setting puts on the request before
//   Swagger UI records it, so the curl command it shows has them too.
"use strict";
(function () {
  var NDJSON = "application/x-ndjson";
  var EVENT_STREAM = "text/event-stream";
  // Messages drawn at most (a long stream would make the page slow); errors always.
  var SHOWN = 1000;
  // google.rpc.Code, for the error line.
  var CODES = [
    "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
    "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
    "UNAUTHENTICATED"
  ];

  // "ndjson", "sse" or null, from a Content-Type.
  function streamKind(contentType) {
    var type = String(contentType || "").split(";")[0].trim().toLowerCase();
    if (type === NDJSON) return "ndjson";
    if (type === EVENT_STREAM) return "sse";
    return null;
  }

  // -- parsing: push(text) gives the items the text completes, end() the rest --------
  // An item: {kind: "message", value} | {kind: "error", value} | {kind: "invalid", text}.

  function parseJson(text) {
    try {
      return { ok: true, value: JSON.parse(text) };
    } catch (e) {
      return { ok: false };
    }
  }

  // One NDJSON line: {"result": ...} or {"error": google.rpc.Status} (grpc-gateway's envelope).
  function ndjsonItem(line) {
    var parsed = parseJson(line);
    if (!parsed.ok) return { kind: "invalid", text: line };
    var value = parsed.value;
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      if ("result" in value) return { kind: "message", value: value.result };
      if ("error" in value) return { kind: "error", value: value.error };
    }
    return { kind: "message", value: value };
  }

  function ndjsonParser() {
    var buffer = "";
    function line(text) {
      return text.trim() ? [ndjsonItem(text)] : [];
    }
    return {
      push: function (text) {
        buffer += text;
        var lines = buffer.split("\n");
        buffer = lines.pop();
        return [].concat.apply([], lines.map(line));
      },
      end: function () {
        var rest = buffer;
        buffer = "";
        return line(rest);
      }
    };
  }

  // Server-sent events as the HTML standard reads them: fields up to a blank line;
  // `data` lines joined; comments and other fields ignored; an event of type
  // `error` is grpcgw's failure event.
  function sseParser() {
    var buffer = "";
    var type = "";
    var data = [];
    function field(line) {
      if (line === "") {
        var event = { type: type || "message", data: data.join("\n"), empty: data.length === 0 };
        type = "";
        data = [];
        if (event.empty) return [];
        var parsed = parseJson(event.data);
        if (event.type === "error") {
          return [{ kind: "error", value: parsed.ok ? parsed.value : event.data }];
        }
        return [parsed.ok ? { kind: "message", value: parsed.value } : { kind: "invalid", text: event.data }];
      }
      if (line.charAt(0) === ":") return [];
      var colon = line.indexOf(":");
      var name = colon < 0 ? line : line.slice(0, colon);
      var value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.charAt(0) === " ") value = value.slice(1);
      if (name === "event") type = value;
      else if (name === "data") data.push(value);
      return [];
    }
    return {
      push: function (text) {
        buffer += text;
        var out = [];
        for (;;) {
          var m = /\r\n|\r|\n/.exec(buffer);
          // A "\r" at the very end may be the first half of "\r\n": wait for more.
          if (m === null || (m[0] === "\r" && m.index === buffer.length - 1)) break;
          out = out.concat(field(buffer.slice(0, m.index)));
          buffer = buffer.slice(m.index + m[0].length);
        }
        return out;
      },
      // An event cut off before its blank line is not dispatched (the standard's rule).
      end: function () {
        buffer = "";
        return [];
      }
    };
  }

  function parser(kind) {
    return kind === "sse" ? sseParser() : ndjsonParser();
  }

  function parseAll(kind, text) {
    var p = parser(kind);
    return p.push(text).concat(p.end());
  }

  // -- the streams being read, by operation ------------------------------------------

  var streams = {};
  var listeners = {};
  // The AbortController of each operation's latest request.
  var requests = {};

  function streamKey(path, method) {
    return String(method).toLowerCase() + " " + path;
  }

  function changed(key) {
    (listeners[key] || []).slice().forEach(function (listener) {
      listener();
    });
  }

  function subscribe(key, listener) {
    (listeners[key] = listeners[key] || []).push(listener);
    return function () {
      listeners[key] = (listeners[key] || []).filter(function (l) {
        return l !== listener;
      });
    };
  }

  // Reads one branch of a stream's body, publishing each item as it is complete.
  function follow(key, kind, body) {
    var stream = { kind: kind, items: [], open: true };
    streams[key] = stream;
    changed(key);
    var p = parser(kind);
    var decoder = new TextDecoder();
    var reader = body.getReader();
    function add(items) {
      if (streams[key] !== stream) return; // executed again since: a newer stream shows
      if (items.length) {
        stream.items = stream.items.concat(items);
        changed(key);
      }
    }
    function close(failure) {
      add(p.end());
      stream.open = false;
      stream.failure = failure;
      if (streams[key] === stream) changed(key);
    }
    function next() {
      return reader.read().then(function (chunk) {
        if (chunk.done) {
          add(p.push(decoder.decode()));
          close(null);
          return undefined;
        }
        add(p.push(decoder.decode(chunk.value, { stream: true })));
        return next();
      });
    }
    next().catch(function (error) {
      close(String((error && error.message) || error));
    });
  }

  // What a request that a newer one of its operation aborted gives swagger-client:
  // nothing, ever, so that Swagger UI never shows its failure over the newer reply.
  function superseded() {
    return new Promise(function () {});
  }

  // ``body`` as it comes, but for the failure an abort makes: then it never ends
  // (swagger-client reads Swagger UI's branch of a stream whole).
  function unlessAborted(body, signal) {
    var reader = body.getReader();
    return new ReadableStream({
      pull: function (controller) {
        return reader.read().then(
          function (chunk) {
            if (chunk.done) controller.close();
            else controller.enqueue(chunk.value);
          },
          function (error) {
            if (signal.aborted) return superseded();
            controller.error(error);
            return undefined;
          }
        );
      },
      cancel: function (reason) {
        return reader.cancel(reason);
      }
    });
  }

  // The fetch swagger-client calls for one operation: a stream's body is split in two.
  // ``signal`` aborts it when the operation is executed again.
  function streamingFetch(key, signal) {
    return function (url, init) {
      var options = Object.assign({}, init, { signal: signal });
      return fetch(url, options).then(
        function (response) {
          var kind = streamKind(response.headers.get("content-type"));
          if (kind === null || !response.ok || !response.body) return response;
          var branches = response.body.tee();
          follow(key, kind, branches[0]);
          return new Response(unlessAborted(branches[1], signal), {
            status: response.status,
            statusText: response.statusText,
            headers: response.headers
          });
        },
        function (error) {
          if (signal.aborted) return superseded();
          throw error;
        }
      );
    };
  }

  // A new request for the operation at ``key``: the one before it, if still under
  // way (a stream still open), is aborted, and its messages are no longer shown.
  function newRequest(key) {
    var earlier = requests[key];
    if (earlier) earlier.abort();
    var controller = new AbortController();
    requests[key] = controller;
    if (streams[key]) {
      delete streams[key];
      changed(key);
    }
    return controller.signal;
  }

  // -- request headers: one table for the whole page --------------------------------
  // The rows the user typed, shared by every operation's Try-it form. Kept in this
  // page's memory only, as Swagger UI keeps what Authorize takes (no
  // persistAuthorization): a header may hold a credential, and nothing goes to the
  // browser's storage. A reload forgets them.

  var headerRows = [];
  var nextRowId = 1;
  var headerListeners = [];

  function headersChanged() {
    headerListeners.slice().forEach(function (listener) {
      listener();
    });
  }

  function subscribeHeaders(listener) {
    headerListeners.push(listener);
    return function () {
      headerListeners = headerListeners.filter(function (l) {
        return l !== listener;
      });
    };
  }

  function addHeaderRow() {
    var row = { id: nextRowId++, name: "", value: "" };
    headerRows = headerRows.concat([row]);
    headersChanged();
    return row.id;
  }

  function editHeaderRow(id, field, text) {
    headerRows = headerRows.map(function (row) {
      if (row.id !== id) return row;
      var edited = Object.assign({}, row);
      edited[field] = text;
      return edited;
    });
    headersChanged();
  }

  function removeHeaderRow(id) {
    headerRows = headerRows.filter(function (row) {
      return row.id !== id;
    });
    headersChanged();
  }

  // Leading and trailing spaces and tabs: not part of a field value (RFC 9110 5.5),
  // and what fetch takes off.
  function ows(text) {
    return text.replace(/^[ \t]+|[ \t]+$/g, "");
  }

  // RFC 9110 5.6.2: a field name is a token.
  var TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
  // The Fetch standard's forbidden request-header names: a page's fetch drops them
  // without a word (the browser sets them itself, or never lets a page).
  var FORBIDDEN = [
    "accept-charset", "accept-encoding", "access-control-request-headers",
    "access-control-request-method", "connection", "content-length", "cookie", "cookie2",
    "date", "dnt", "expect", "host", "keep-alive", "origin", "referer", "set-cookie", "te",
    "trailer", "transfer-encoding", "upgrade", "via"
  ];
  var METHOD_OVERRIDES = ["x-http-method", "x-http-method-override", "x-method-override"];
  var FORBIDDEN_METHODS = ["connect", "trace", "track"];

  function codePoint(ch) {
    var hex = ch.codePointAt(0).toString(16).toUpperCase();
    return "U+" + "0000".slice(hex.length) + hex;
  }

  // Why the browser will not send this header, or null.
  function forbidden(name, value) {
    var lower = name.toLowerCase();
    var instead = " Remove the row (a client such as curl can send it).";
    if (FORBIDDEN.indexOf(lower) >= 0) {
      return name + ": the browser does not let a page send this header (a forbidden " +
        "header name of the Fetch standard)." + instead;
    }
    if (lower.indexOf("proxy-") === 0 || lower.indexOf("sec-") === 0) {
      return name + ": the browser does not let a page send a header whose name starts " +
        "with Proxy- or Sec- (the Fetch standard)." + instead;
    }
    if (METHOD_OVERRIDES.indexOf(lower) >= 0) {
      var methods = value.split(",").map(function (m) {
        return m.trim().toLowerCase();
      });
      var refused = methods.some(function (m) {
        return FORBIDDEN_METHODS.indexOf(m) >= 0;
      });
      if (refused) {
        return name + ": the browser does not let a page name CONNECT, TRACE or TRACK " +
          "in this header (the Fetch standard)." + instead;
      }
    }
    return null;
  }

  // The problem with one row, or null: {field: "name" | "value", message}.
  function rowProblem(row) {
    var name = ows(row.name);
    var value = ows(row.value);
    if (!name) {
      return value ? { field: "name", message: "A header needs a name." } : null;
    }
    if (!TOKEN.test(name)) {
      var bad = Array.from(name).filter(function (ch) { return !TOKEN.test(ch); })[0];
      return {
        field: "name",
        message: "\u201c" + name + "\u201d is not a header name: " +
          (bad === " " ? "a space" : "\u201c" + bad + "\u201d (" + codePoint(bad) + ")") +
          " is not allowed. A name is letters, digits and ! # $ % & ' * + - . ^ _ ` | ~ " +
          "(an RFC 9110 token)."
      };
    }
    if (name.charAt(0) === "-" || name.charAt(0) === "_") {
      // Swagger UI's curl command leaves a word starting with - or _ unquoted.
      return {
        field: "name",
        message: "\u201c" + name + "\u201d: the explorer takes no name starting with \u201c" +
          name.charAt(0) + "\u201d (the curl command could not quote it safely)."
      };
    }
    var why = forbidden(name, value);
    if (why) return { field: "name", message: why };
    for (var i = 0; i < value.length; i++) {
      var ch = value.charAt(i);
      var c = value.charCodeAt(i);
      var what = null;
      if (c === 13) what = "a carriage return (CR)";
      else if (c === 10) what = "a line feed (LF)";
      else if (c === 0) what = "a NUL character";
      else if ((c < 32 && c !== 9) || c === 127) what = "a control character (" + codePoint(ch) + ")";
      if (what) {
        return {
          field: "value",
          message: "The value of " + name + " holds " + what + ": header values cannot hold CR, " +
            "LF, NUL or other control characters."
        };
      }
      if (c > 255) {
        var shown = String.fromCodePoint(value.codePointAt(i));
        return {
          field: "value",
          message: "The value of " + name + " holds \u201c" + shown + "\u201d (" + codePoint(shown) +
            "): a browser sends header values as bytes (Latin-1 at most), and gRPC text " +
            "metadata is printable ASCII. Send such text base64-encoded in a " +
            "Grpc-Metadata-<key>-Bin header."
        };
      }
    }
    return null;
  }

  // The rows with their problems, and the headers to send ({name: value}, names
  // as typed, rows of one name joined with ", " as HTTP joins repeated fields), or
  // null while a row has a problem.
  function headerState() {
    var problems = {};
    var count = 0;
    var send = {};
    var names = {};
    headerRows.forEach(function (row) {
      var problem = rowProblem(row);
      if (problem) {
        problems[row.id] = problem;
        count += 1;
        return;
      }
      var name = ows(row.name);
      if (!name) return;
      var lower = name.toLowerCase();
      var value = ows(row.value);
      if (lower in names) send[names[lower]] += ", " + value;
      else {
        names[lower] = name;
        send[name] = value;
      }
    });
    return { problems: problems, count: count, send: count ? null : send };
  }

  // Sets ``extra`` on a request's headers (an object), replacing a header of the
  // same name in any case: what is typed in the table goes over what Swagger UI
  // would send (Accept, Content-Type, what Authorize took).
  function applyHeaders(headers, extra) {
    Object.keys(extra).forEach(function (name) {
      var lower = name.toLowerCase();
      Object.keys(headers).forEach(function (existing) {
        if (existing.toLowerCase() === lower) delete headers[existing];
      });
      headers[name] = extra[name];
    });
    return headers;
  }

  // Swagger UI's requestInterceptor (a setting; it sees every request, the document's
  // too): the table's headers go on the Try-it calls, which carry a fetch of ours.
  function requestInterceptor(request) {
    var extra = request.userFetch && request.userFetch.grpcgwHeaders;
    if (extra) request.headers = applyHeaders(Object.assign({}, request.headers), extra);
    return request;
  }

  // -- the view ----------------------------------------------------------------------

  function pretty(value) {
    return JSON.stringify(value, null, 2);
  }

  function statusLine(status) {
    if (status === null || typeof status !== "object") return String(status);
    var code = typeof status.code === "number" ? status.code : null;
    var name = code !== null && CODES[code] ? CODES[code] + " (" + code + ")" : "error";
    return status.message ? name + ": " + status.message : name;
  }

  function components(React) {
    var h = React.createElement;
    var label = { fontWeight: "bold", fontSize: "12px", marginBottom: "2px" };
    // Read by screen readers, not drawn.
    var HIDDEN = {
      position: "absolute", width: "1px", height: "1px", overflow: "hidden",
      clip: "rect(0 0 0 0)", whiteSpace: "nowrap"
    };

    function Item(props) {
      var item = props.item;
      if (item.kind === "error") {
        return h(
          "div",
          { className: "grpcgw-stream-item grpcgw-stream-error", style: { borderLeft: "4px solid #f93e3e", paddingLeft: "8px", margin: "6px 0" } },
          h("div", { className: "grpcgw-stream-label", style: Object.assign({ color: "#f93e3e" }, label) }, "Error: " + statusLine(item.value)),
          h("pre", { className: "microlight" }, typeof item.value === "string" ? item.value : pretty(item.value))
        );
      }
      if (item.kind === "invalid") {
        return h(
          "div",
          { className: "grpcgw-stream-item grpcgw-stream-invalid", style: { borderLeft: "4px solid #fca130", paddingLeft: "8px", margin: "6px 0" } },
          h("div", { className: "grpcgw-stream-label", style: label }, "#" + props.number + " (not JSON)"),
          h("pre", { className: "microlight" }, item.text)
        );
      }
      return h(
        "div",
        { className: "grpcgw-stream-item grpcgw-stream-message", style: { borderLeft: "4px solid #49cc90", paddingLeft: "8px", margin: "6px 0" } },
        h("div", { className: "grpcgw-stream-label", style: label }, "#" + props.number),
        h("pre", { className: "microlight" }, pretty(item.value))
      );
    }

    function Items(props) {
      var items = props.items;
      var count = items.filter(function (i) {
        return i.kind !== "error";
      }).length;
      var failed = items.some(function (i) {
        return i.kind === "error";
      });
      var summary = count + (count === 1 ? " message" : " messages");
      if (failed) summary += ", then an error";
      if (count > SHOWN) summary += " (the first " + SHOWN + " are shown)";
      if (props.open) summary += "; the stream is open, more may come";
      else if (props.failure) summary += "; reading the stream failed: " + props.failure;
      var number = 0;
      var shown = [];
      items.forEach(function (item, i) {
        if (item.kind !== "error") number += 1;
        if (item.kind === "error" || number <= SHOWN) {
          shown.push(h(Item, { key: i, item: item, number: number }));
        }
      });
      return h(
        "div",
        { className: "grpcgw-stream" + (props.open ? " grpcgw-stream-open" : "") },
        h("div", { className: "grpcgw-stream-summary", style: { margin: "4px 0" } }, summary),
        shown
      );
    }

    // The stream of the operation at ``key``, redrawing the component on its changes.
    function useStream(key) {
      var redraw = React.useReducer(function (n) {
        return n + 1;
      }, 0)[1];
      React.useEffect(
        function () {
          return subscribe(key, redraw);
        },
        [key]
      );
      return streams[key];
    }

    // While a stream is open: what has come so far, above Swagger UI's own panel.
    function LiveStream(props) {
      var stream = useStream(streamKey(props.path, props.method));
      if (!stream || !stream.open) return null;
      return h(
        "div",
        { className: "grpcgw-stream-live responses-inner" },
        h("h4", null, "Server response: streaming (" + (stream.kind === "sse" ? EVENT_STREAM : NDJSON) + ")"),
        h(Items, { items: stream.items, open: true })
      );
    }

    // The page's request headers, redrawing the component when they change.
    function useHeaders() {
      var redraw = React.useReducer(function (n) {
        return n + 1;
      }, 0)[1];
      React.useEffect(function () {
        return subscribeHeaders(redraw);
      }, []);
      return headerState();
    }

    // The request-headers table of an operation's Try-it form: the same rows in
    // every operation.
    function HeadersEditor() {
      var state = useHeaders();
      var id = React.useId();
      var focusRow = React.useRef(null);
      var table = React.useRef(null);
      React.useEffect(function () {
        var wanted = focusRow.current;
        if (wanted === null || !table.current) return;
        focusRow.current = null;
        var target = wanted === "add"
          ? table.current.querySelector(".grpcgw-headers-add")
          : table.current.querySelector("input[data-row='" + wanted + "'][data-field='name']");
        if (target) target.focus();
      });
      var rows = [];
      headerRows.forEach(function (row, index) {
        var problem = state.problems[row.id];
        var messageId = id + "-problem-" + row.id;
        var number = index + 1;
        function input(field, label) {
          var invalid = Boolean(problem && problem.field === field);
          return h("input", {
            type: "text",
            className: "grpcgw-header-" + field,
            value: row[field],
            placeholder: field === "name" ? "Grpc-Metadata-Key" : "value",
            spellCheck: false,
            autoComplete: "off",
            "aria-label": "Header " + number + " " + label,
            "aria-invalid": invalid ? "true" : undefined,
            "aria-describedby": invalid ? messageId : undefined,
            "data-row": row.id,
            "data-field": field,
            style: { width: "100%", margin: 0 },
            onChange: function (event) {
              editHeaderRow(row.id, field, event.target.value);
            }
          });
        }
        rows.push(
          h(
            "tr",
            { key: row.id, className: "grpcgw-header-row" + (problem ? " grpcgw-header-invalid" : "") },
            h("td", { style: { width: "35%", paddingRight: "8px" } }, input("name", "name")),
            h("td", { style: { paddingRight: "8px" } }, input("value", "value")),
            h(
              "td",
              { style: { width: "1%", whiteSpace: "nowrap" } },
              h(
                "button",
                {
                  type: "button",
                  className: "btn grpcgw-headers-remove",
                  "aria-label": "Remove header " + number,
                  onClick: function () {
                    var after = headerRows[index + 1] || headerRows[index - 1];
                    focusRow.current = after ? after.id : "add";
                    removeHeaderRow(row.id);
                  }
                },
                "Remove"
              )
            )
          )
        );
        if (problem) {
          rows.push(
            h(
              "tr",
              { key: row.id + "-problem", className: "grpcgw-header-problem-row" },
              h(
                "td",
                { colSpan: 3 },
                h(
                  "div",
                  {
                    id: messageId,
                    className: "grpcgw-header-problem",
                    style: { color: "#f93e3e", fontSize: "12px", padding: "2px 0 8px" }
                  },
                  problem.message
                )
              )
            )
          );
        }
      });
      var titleId = id + "-title";
      return h(
        "div",
        { className: "opblock-section grpcgw-headers", ref: table },
        h(
          "div",
          { className: "opblock-section-header" },
          h("h4", { className: "opblock-title", id: titleId }, "Request headers")
        ),
        h(
          "div",
          { className: "table-container" },
          h(
            "p",
            { className: "grpcgw-headers-note", id: id + "-note", style: { fontSize: "12px", margin: "0 0 8px" } },
            "Sent with every call this page makes, in every operation, and shown in the curl " +
              "command; kept until the page is reloaded, never in the browser's storage. A " +
              "header typed here replaces one the page would send (Accept, Content-Type, " +
              "what Authorize took). A browser cannot set headers on a WebSocket: a WebSocket " +
              "call of a streaming method would carry none of these."
          ),
          rows.length
            ? h(
                "table",
                {
                  className: "grpcgw-headers-table",
                  "aria-labelledby": titleId,
                  "aria-describedby": id + "-note",
                  style: { width: "100%" }
                },
                h(
                  "thead",
                  null,
                  h(
                    "tr",
                    null,
                    h("th", { scope: "col", className: "col_header", style: { textAlign: "left" } }, "Name"),
                    h("th", { scope: "col", className: "col_header", style: { textAlign: "left" } }, "Value"),
                    h("th", { scope: "col", className: "col_header" }, h("span", { className: "grpcgw-visually-hidden", style: HIDDEN }, "Remove"))
                  )
                ),
                h("tbody", null, rows)
              )
            : null,
          h(
            "button",
            {
              type: "button",
              className: "btn grpcgw-headers-add",
              style: { marginTop: "8px" },
              onClick: function () {
                focusRow.current = addHeaderRow();
              }
            },
            "Add header"
          )
        )
      );
    }

    // Swagger UI's "Execute": pressable while the operation's stream is open; off,
    // with the reason above it, while a request header has a problem.
    function Execute(props) {
      var stream = useStream(streamKey(props.props.path, props.props.method));
      var headers = useHeaders();
      var open = Boolean(stream && stream.open);
      if (headers.count) {
        return h(
          "div",
          { className: "grpcgw-execute-blocked", style: { flex: 1 } },
          h(
            "div",
            {
              className: "grpcgw-headers-blocked",
              role: "status",
              style: { color: "#f93e3e", fontSize: "13px", textAlign: "left", margin: "0 0 8px" }
            },
            headers.count === 1
              ? "A request header has a problem (see Request headers): nothing is sent until it is fixed or removed."
              : headers.count + " request headers have problems (see Request headers): nothing is sent until they are fixed or removed."
          ),
          h(props.Original, Object.assign({}, props.props, { disabled: true }))
        );
      }
      return h(props.Original, open ? Object.assign({}, props.props, { disabled: false }) : props.props);
    }

    return { Execute: Execute, HeadersEditor: HeadersEditor, Items: Items, LiveStream: LiveStream };
  }

  function GrpcgwStreams(system) {
    var view = components(system.React);
    var h = system.React.createElement;
    return {
      statePlugins: {
        spec: {
          wrapActions: {
            executeRequest: function (original) {
              return function (request) {
                var key = streamKey(request.pathName, request.method);
                var headers = headerState().send;
                if (headers === null) {
                  // Execute is off while a header has a problem; should a call come
                  // all the same, it fails saying why rather than going without them.
                  request.userFetch = function () {
                    return Promise.reject(new Error("a request header has a problem (see Request headers)"));
                  };
                } else {
                  request.userFetch = streamingFetch(key, newRequest(key));
                  // What requestInterceptor puts on this call (a snapshot: editing the
                  // table later changes the next call only).
                  request.userFetch.grpcgwHeaders = headers;
                }
                return original(request);
              };
            }
          }
        }
      },
      wrapComponents: {
        // The request-headers table below the parameters (and the body) of every
        // operation's Try-it form.
        parameters: function (Original) {
          return function (props) {
            if (!props.tryItOutEnabled) return h(Original, props);
            return h("div", null, h(Original, props), h(view.HeadersEditor, null));
          };
        },
        execute: function (Original) {
          return function (props) {
            return h(view.Execute, { Original: Original, props: props });
          };
        },
        responses: function (Original) {
          return function (props) {
            return h(
              "div",
              null,
              h(view.LiveStream, { path: props.path, method: props.method }),
              h(Original, props)
            );
          };
        },
        responseBody: function (Original) {
          return function (props) {
            var kind = streamKind(props.contentType);
            if (kind === null || typeof props.content !== "string") return h(Original, props);
            return h(view.Items, { items: parseAll(kind, props.content), open: false });
          };
        }
      }
    };
  }

  // The parsers, for tests: parse("ndjson" | "sse", [text, ...]) -> the items.
  window.grpcgwExplorer = {
    parse: function (kind, chunks) {
      var p = parser(kind);
      var items = [];
      chunks.forEach(function (chunk) {
        items = items.concat(p.push(chunk));
      });
      return items.concat(p.end());
    }
  };

  window.addEventListener("load", function () {
    var root = document.getElementById("swagger-ui");
    // Absolute, so that the document's relative server URL resolves against the
    // document's own location: behind any path prefix, calls go to this gateway.
    var url = new URL(root.getAttribute("data-url"), document.baseURI).href;
    window.ui = SwaggerUIBundle({
      url: url,
      dom_id: "#swagger-ui",
      deepLinking: true,
      // No badge from validator.swagger.io: the page asks nothing of other origins.
      validatorUrl: null,
      // ?url= and ?configUrl= cannot point the page at another document.
      queryConfigEnabled: false,
      presets: [SwaggerUIBundle.presets.apis],
      plugins: [GrpcgwStreams],
      layout: "BaseLayout",
      displayRequestDuration: true,
      requestInterceptor: requestInterceptor
    });
  });
})();
