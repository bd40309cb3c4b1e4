// The marking screen: one response at a time; type the mark, Enter submits, the next
// response appears without reloading the page. All calls go to the JSON API.
(function () {
  "use strict";
  const root = document.getElementById("marking");
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const $ = (id) => document.getElementById(id);
  const number = new Intl.NumberFormat(document.documentElement.lang || undefined, { maximumFractionDigits: 3 });
  let queue = [];

  // The response image on a canvas, so that zooming and quarter turns change its laid-out
  // size and the box scrolls to every part of it. Zoom and turn stay from one response to
  // the next (the boxes of one question share a size); "reset" goes back to fit-to-width.
  const view = {
    zoom: 1,
    turns: 0,
    picture: new Image(),
    load(url) {
      const shown = !!url;
      $("viewer").hidden = !shown;
      $("image-tools").hidden = !shown;
      if (!shown) { this.picture.removeAttribute("src"); return; }
      this.picture.onload = () => this.draw();
      this.picture.src = url;
    },
    draw() {
      const pic = this.picture;
      if (!pic.naturalWidth) return;
      const canvas = $("image");
      const sideways = this.turns % 2 === 1;
      const fit = ($("viewer").clientWidth || pic.naturalWidth) / (sideways ? pic.naturalHeight : pic.naturalWidth);
      const scale = Math.min(fit, 1) * this.zoom;
      const w = pic.naturalWidth * scale, h = pic.naturalHeight * scale;
      canvas.width = Math.round(sideways ? h : w);
      canvas.height = Math.round(sideways ? w : h);
      const ctx = canvas.getContext("2d");
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.fillStyle = "#fff";
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.translate(canvas.width / 2, canvas.height / 2);
      ctx.rotate(this.turns * Math.PI / 2);
      ctx.drawImage(pic, -w / 2, -h / 2, w, h);
      $("zoom-level").textContent = Math.round(this.zoom * 100) + "%";
    },
    set(zoom, turns) {
      this.zoom = Math.min(4, Math.max(0.5, zoom));
      this.turns = ((turns % 4) + 4) % 4;
      this.draw();
    },
  };

  function say(text, kind) {
    const box = $("message");
    box.textContent = text;
    box.className = "flash " + (kind || "");
    box.hidden = !text;
  }

  async function call(method, url, body) {
    const res = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
      body: body ? JSON.stringify(body) : undefined,
    });
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    return { ok: res.ok, status: res.status, data };
  }

  function show() {
    const item = queue[0];
    $("work").hidden = !item;
    $("empty").hidden = !!item;
    if (!item) return;
    const question = root.dataset.questionLabel.replace("%(n)s", item.question);
    $("where").textContent = `${item.component_name || item.component} · ${question}`;
    $("question-text").textContent = item.question_text || "";
    $("question-text").hidden = !item.question_text;
    $("group-name").textContent = item.group_name || "";
    $("script").textContent = item.script_code;
    $("expires").textContent = new Date(item.expires_at).toLocaleTimeString(document.documentElement.lang, { timeZone: root.dataset.timeZone });
    $("left").textContent = String(queue.length - 1);
    $("text").textContent = item.text;
    $("blank").hidden = !item.blank;
    view.load(item.image_url);
    $("reference").textContent = item.reference;
    $("scheme").textContent = item.scheme;
    $("max").textContent = number.format(Number(item.max));
    $("step").textContent = number.format(Number(item.step));
    const input = $("mark");
    input.value = "";
    input.focus();
  }

  // Items whose lease ran out are no longer the examiner's: a mark on one would be refused
  // (and lost), and the rest of that batch with it, one by one. Dropped, so that the page
  // reloads what is still held, or claims anew.
  function prune() {
    const now = Date.now();
    queue = queue.filter((item) => Date.parse(item.expires_at) > now);
  }

  async function fill() {
    prune();
    if (queue.length) return show();
    let res = await call("GET", root.dataset.heldUrl);
    if (res.ok && res.data.length) { queue = res.data; return show(); }
    // Only the group the examiner chose to mark, when they chose one.
    const ask = root.dataset.group ? { size: 10, group: root.dataset.group } : { size: 10 };
    res = await call("POST", root.dataset.claimUrl, ask);
    if (!res.ok) { say(res.data ? res.data.detail : root.dataset.msgNetwork, "error"); queue = []; return show(); }
    queue = res.data;
    if (!queue.length) say(root.dataset.msgDone, "ok");
    show();
  }

  async function submitMark(event) {
    event.preventDefault();
    const item = queue[0];
    if (!item) return;
    const value = $("mark").value.trim();
    // Said, not just refocused: an earlier refusal left on screen would read as this one's.
    if (!value) { say(root.dataset.msgEmpty, "error"); $("mark").focus(); return; }
    let res;
    try {
      res = await call("POST", root.dataset.responseBase + item.response + "/mark", { value });
    } catch (e) { say(root.dataset.msgNetwork, "error"); return; }
    if (res.ok) {
      queue.shift();
      say(root.dataset.msgRecorded, "ok");
      return fill();
    }
    if (res.data && res.data.error === "lease_lost") {
      queue.shift();
      // Its batch expired (and any claimed before it): none of it is the examiner's now.
      if (res.data.code === "lease_expired") {
        const at = Date.parse(item.expires_at);
        queue = queue.filter((other) => Date.parse(other.expires_at) > at);
      }
      if (res.data.code === "lease_suspended") {
        // Suspended in this group: everything held there went back, so none of it is shown
        // again for a mark that would be lost too. The refusal says it all, reason included.
        // Not fill(): a claim's refusal would replace this message, which says the mark was
        // not recorded.
        queue = queue.filter((other) => other.group !== item.group);
        say(res.data.detail, "error");
        return show();
      }
      say(root.dataset.msgLost + " " + res.data.detail, "error");
      return fill(); // drops the rest of an expired batch too (prune)
    }
    say(res.data ? res.data.detail : root.dataset.msgNetwork, "error");
    $("mark").select();
  }

  async function submitFlag(event) {
    event.preventDefault();
    const item = queue[0];
    if (!item) return;
    const res = await call("POST", root.dataset.responseBase + item.response + "/flag", {
      kind: $("flag-kind").value, note: $("flag-note").value,
    });
    if (res.ok || (res.data && res.data.error === "lease_lost")) {
      queue.shift();
      $("flag-note").value = "";
      $("flag-box").open = false;
      say(res.ok ? root.dataset.msgFlagged : res.data.detail, res.ok ? "ok" : "error");
      return fill();
    }
    say(res.data ? res.data.detail : root.dataset.msgNetwork, "error");
  }

  // "Hand back": the response goes back to the queue unmarked, for another examiner; the
  // next one held is shown, or, when none is left, the empty state (no new claim, which
  // could bring the same response straight back). "All" hands back the whole batch.
  async function handBack(all) {
    const items = all ? queue.slice() : queue.slice(0, 1);
    if (all && root.dataset.allHeldUrl) {
      // Everything held in the session, not only this page's group: the message says that
      // nothing is held in their name, and on a group's page the other groups' work was.
      let res;
      try {
        res = await call("GET", root.dataset.allHeldUrl);
      } catch (e) { say(root.dataset.msgNetwork, "error"); return; }
      if (!res.ok) { say(res.data ? res.data.detail : root.dataset.msgNetwork, "error"); return; }
      const listed = new Set(items.map((item) => item.response));
      items.push(...res.data.filter((item) => !listed.has(item.response)));
    }
    for (const item of items) {
      let res;
      try {
        res = await call("POST", root.dataset.responseBase + item.response + "/release");
      } catch (e) { say(root.dataset.msgNetwork, "error"); return; }
      if (!res.ok && !(res.data && res.data.error === "lease_lost")) {
        say(res.data ? res.data.detail : root.dataset.msgNetwork, "error");
        return;
      }
      queue = queue.filter((held) => held.response !== item.response);
    }
    say(all ? root.dataset.msgHandedAll : root.dataset.msgHandedBack, "ok");
    show();
  }

  // "Correct my last mark" (R6): the examiner's most recent mark whose response is not
  // final; F4 opens it at the mark field, Enter records, Escape goes back to marking.
  const number3 = (v) => number.format(Number(v));
  let lastMark = null;
  async function openCorrection() {
    const res = await call("GET", root.dataset.lastUrl);
    lastMark = res.ok ? res.data : null;
    $("correct-form").hidden = !lastMark;
    if (!lastMark) { $("last-mark").textContent = root.dataset.msgNoLast; return; }
    const question = root.dataset.questionLabel.replace("%(n)s", lastMark.question);
    $("last-mark").textContent = root.dataset.yourMark
      .replace(
        "%(where)s",
        `${lastMark.component_name || lastMark.component} · ${question} · ` +
          `${root.dataset.scriptLabel} ${lastMark.script_code}`,
      )
      .replace("%(value)s", number3(lastMark.value));
    $("correct-response").value = lastMark.response;
    $("correct-max").textContent = number3(lastMark.max);
    $("correct-step").textContent = number3(lastMark.step);
    $("correct-value").value = "";
    $("correct-value").focus();
  }

  async function submitCorrection(event) {
    event.preventDefault();
    if (!lastMark) return;
    let res;
    try {
      res = await call("POST", root.dataset.responseBase + lastMark.response + "/correct", {
        value: $("correct-value").value.trim(), reason: $("correct-reason").value,
      });
    } catch (e) { say(root.dataset.msgNetwork, "error"); return; }
    if (res.ok) {
      $("correct-reason").value = "";
      $("correct-box").open = false;
      say(root.dataset.msgCorrected, "ok");
      if (queue.length) $("mark").focus();
      return;
    }
    say(res.data ? res.data.detail : root.dataset.msgNetwork, "error");
    $("correct-value").focus();
  }

  // F2 opens the anomaly form at its first field (Enter in it reports); Escape closes it
  // and goes back to the mark, so flagging needs no mouse either.
  document.addEventListener("keydown", (event) => {
    const box = $("flag-box");
    if (event.key === "F4") {
      event.preventDefault();
      // Opening the box loads the mark (its toggle event); an open box is loaded again.
      if ($("correct-box").open) openCorrection(); else $("correct-box").open = true;
    } else if (event.key === "Escape" && $("correct-box").open) {
      event.preventDefault();
      $("correct-box").open = false;
      if (queue.length) $("mark").focus();
    } else if (event.key === "F2" && queue.length) {
      event.preventDefault();
      box.open = true;
      $("flag-kind").focus();
    } else if (event.key === "Escape" && box.open) {
      event.preventDefault();
      box.open = false;
      $("mark").focus();
    }
  });
  $("mark-form").addEventListener("submit", submitMark);
  $("flag-form").addEventListener("submit", submitFlag);
  $("correct-form").addEventListener("submit", submitCorrection);
  $("correct-box").addEventListener("toggle", () => {
    if ($("correct-box").open) openCorrection();
  });
  $("again").addEventListener("click", () => { say(""); fill(); });
  if ($("hand-back")) {
    $("hand-back").addEventListener("click", () => handBack(false));
    $("hand-back-all").addEventListener("click", () => handBack(true));
  }
  $("zoom-in").addEventListener("click", () => view.set(view.zoom * 1.25, view.turns));
  $("zoom-out").addEventListener("click", () => view.set(view.zoom / 1.25, view.turns));
  $("rotate").addEventListener("click", () => view.set(view.zoom, view.turns + 1));
  $("view-reset").addEventListener("click", () => view.set(1, 0));
  window.addEventListener("resize", () => view.draw());
  fill();
})();
