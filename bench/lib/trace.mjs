// Reads the start-up figures out of a Chromium trace (the DevTools timeline of a page load).

/**
 * The start-up figures from a Chromium trace of the page load. "start" is the main-thread time of the
 * tracker's own script — compiling and running its files (EvaluateScript) and every callback into
 * them (FunctionCall: timers, listeners, promise reactions) — from its first file until its first
 * request to the collector leaves or the page's load event has run, whichever comes first: by then
 * every tracker here has its first pageview queued. Nested events count once. "firstFile" is the
 * evaluation of the file the <script> tag names; "after" is the tracker's script time after start
 * until the end of the trace (files loaded after `load`, idle work, timers).
 */
export const startupFromTrace = (events, tracker, origin) => {
  const path = (url) => (url && url.startsWith(origin) ? new URL(url).pathname : undefined);
  const ours = events.filter(
    (e) =>
      e.ph == 'X' &&
      (e.name == 'EvaluateScript' || e.name == 'FunctionCall') &&
      tracker.owns(path(e.args?.data?.url) || ''),
  );
  const first = ours
    .filter((e) => e.name == 'EvaluateScript' && path(e.args.data.url) == tracker.src)
    .sort((a, b) => a.ts - b.ts)[0];
  if (!first) return {};
  const mainThread = (e) => e.pid == first.pid && e.tid == first.tid;
  const top = [];
  let end = -Infinity;
  for (const e of ours.filter(mainThread).sort((a, b) => a.ts - b.ts))
    if (e.ts >= end && e.ts >= first.ts) (top.push(e), (end = e.ts + (e.dur || 0)));
  const isSend = (url) => {
    const p = path(url);
    return (
      p != undefined &&
      !p.startsWith('/p/') &&
      !p.startsWith('/t/') &&
      !p.startsWith('/dist/') &&
      p != '/favicon.ico'
    );
  };
  const sent = events
    .filter(
      (e) =>
        e.name == 'ResourceSendRequest' &&
        e.pid == first.pid &&
        e.ts > first.ts &&
        isSend(e.args?.data?.url),
    )
    .sort((a, b) => a.ts - b.ts)[0];
  // The window's load event: script and image elements dispatch `load` too, so it is found by the
  // main frame's MarkLoad, and ends with the EventDispatch around it (the page's load listeners).
  const mark = events.find(
    (e) => e.name == 'MarkLoad' && e.args?.data?.isMainFrame && mainThread(e) && e.ts > first.ts,
  );
  const around =
    mark &&
    events.find(
      (e) =>
        e.ph == 'X' &&
        e.name == 'EventDispatch' &&
        e.args?.data?.type == 'load' &&
        mainThread(e) &&
        e.ts <= mark.ts &&
        e.ts + e.dur >= mark.ts,
    );
  const loadEnd = around ? around.ts + around.dur : mark ? mark.ts : Infinity;
  const cutoff = Math.min(sent ? sent.ts : Infinity, loadEnd);
  const ms = (list) => list.reduce((sum, e) => sum + (e.dur || 0), 0) / 1000;
  return {
    start: ms(top.filter((e) => e.ts < cutoff)),
    firstFile: first.dur / 1000,
    after: ms(top.filter((e) => e.ts >= cutoff)),
    sentBeforeLoad: Boolean(sent && sent.ts < loadEnd),
  };
};
