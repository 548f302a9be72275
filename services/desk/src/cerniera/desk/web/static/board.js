// The board of coming discharges, live: the desk sends "caso" (a case id) each time a case
// of the user's district changes; the row is fetched again and swapped in, keeping the
// keyboard focus where it was, and the change is announced politely. After a reconnection
// the whole table is fetched again (changes may have been missed meanwhile).
(function () {
  "use strict";
  var board = document.querySelector("[data-board]");
  if (!board || !window.EventSource || !window.fetch) {
    return;
  }
  var live = document.getElementById("board-live");
  var opened = false;
  var pending = {};

  function announce(text) {
    if (live) {
      live.textContent = text;
    }
  }

  function rowOf(caseId) {
    var rows = board.querySelectorAll("tr[data-case-id]");
    for (var i = 0; i < rows.length; i++) {
      if (rows[i].getAttribute("data-case-id") === caseId) {
        return rows[i];
      }
    }
    return null;
  }

  // Which element had the focus inside `root`, to give it back after the swap.
  function focusKey(root) {
    var active = document.activeElement;
    if (!active || !root.contains(active)) {
      return null;
    }
    var row = active.closest("tr[data-case-id]");
    return {
      caseId: row ? row.getAttribute("data-case-id") : null,
      focus: active.getAttribute("data-focus"),
      wrapper: active === root.querySelector("#board-table")
    };
  }

  function restoreFocus(key) {
    if (!key) {
      return;
    }
    var target = null;
    if (key.caseId) {
      var row = rowOf(key.caseId);
      target = row && row.querySelector(key.focus ? "[data-focus='" + key.focus + "']" : "a");
    }
    if (!target) {
      target = board.querySelector("#board-table");
    }
    if (target) {
      target.focus({ preventScroll: true });
    }
  }

  function get(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
  }

  function refreshTable() {
    get(board.getAttribute("data-table-url")).then(function (response) {
      if (!response.ok) {
        return;
      }
      return response.text().then(function (html) {
        var key = focusKey(board);
        board.innerHTML = html;
        restoreFocus(key);
        announce(board.getAttribute("data-refreshed"));
      });
    });
  }

  function refreshRow(caseId) {
    var path = encodeURIComponent(caseId).replace(/%2F/gi, "/").replace(/%3A/gi, ":");
    var url = board.getAttribute("data-row-url") + path;
    get(url).then(function (response) {
      var row = rowOf(caseId);
      if (response.status === 204) {
        // The case has left the board (discharged long ago, cancelled, moved away).
        if (row) {
          var key = focusKey(row);
          row.parentNode.removeChild(row);
          restoreFocus(key && { caseId: null });
        }
        return;
      }
      if (!response.ok) {
        return;
      }
      return response.text().then(function (html) {
        if (!row) {
          refreshTable(); // a new case: the table keeps its order by discharge day
          return;
        }
        var holder = document.createElement("tbody");
        holder.innerHTML = html.trim();
        var fresh = holder.querySelector("tr[data-case-id]");
        if (!fresh) {
          return;
        }
        var key = focusKey(row);
        row.parentNode.replaceChild(fresh, row);
        restoreFocus(key);
        var text = board.getAttribute("data-updated") || "{name}";
        announce(text.replace("{name}", fresh.getAttribute("data-name") || caseId));
      });
    });
  }

  var source = new EventSource(board.getAttribute("data-stream"));
  source.addEventListener("open", function () {
    if (opened) {
      refreshTable();
    }
    opened = true;
  });
  source.addEventListener("caso", function (event) {
    var caseId;
    try {
      caseId = JSON.parse(event.data).case_id;
    } catch (error) {
      return;
    }
    // Several events about one case in a burst: one fetch.
    if (!caseId || pending[caseId]) {
      return;
    }
    pending[caseId] = setTimeout(function () {
      delete pending[caseId];
      refreshRow(caseId);
    }, 250);
  });
})();
