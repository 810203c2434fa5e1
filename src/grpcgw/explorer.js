// grpcgw: start Swagger UI on the document this gateway serves, with a plugin that
// shows server streams (newline-delimited JSON, server-sent events) message by
// message, as they arrive.
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

    // Swagger UI's "Execute", pressable while the operation's stream is open.
    function Execute(props) {
      var stream = useStream(streamKey(props.props.path, props.props.method));
      var open = Boolean(stream && stream.open);
      return h(props.Original, open ? Object.assign({}, props.props, { disabled: false }) : props.props);
    }

    return { Execute: Execute, Items: Items, LiveStream: LiveStream };
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
                request.userFetch = streamingFetch(key, newRequest(key));
                return original(request);
              };
            }
          }
        }
      },
      wrapComponents: {
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
      displayRequestDuration: true
    });
  });
})();
