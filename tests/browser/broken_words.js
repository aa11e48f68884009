// The words of the visible table cells that the layout cut over two lines or more, run by
// `Browser::broken_cells` (tests/browser/driver.rs) through WebDriver, which wraps it in a
// function: hence the `return` at the end.
//
// A word is a run of non-blank characters of one text node. It is cut when its characters'
// boxes (Range.getClientRects) sit on more than one line. A header (`th`) word is never cut.
// A data (`td`) word may only be cut after a hyphen or a dash, and only if it is a compound
// word or name ("Marie-Claude"): a number, a date, a time, a code or an address ("04/12/2028",
// "09:00–12:30", "AT-1-2026-000001", "prenom.nom@exemple.fr") is never cut. Text hidden from
// sight (`.sr-only`, `display: none`) is not read.
const hidden = (e) => {
  for (let n = e; n; n = n.parentElement) {
    const s = getComputedStyle(n);
    if (s.display === 'none' || s.visibility === 'hidden') return true;
    if (s.position === 'absolute' && s.clip !== 'auto') return true;
    const r = n.getBoundingClientRect();
    if ((r.width <= 1 || r.height <= 1) && s.overflow !== 'visible') return true;
  }
  return false;
};
const top = (range) => {
  const box = [...range.getClientRects()].find((b) => b.width > 0);
  return box ? box.top : null;
};
const range = (node, from, to) => {
  const r = document.createRange();
  r.setStart(node, from);
  r.setEnd(node, to);
  return r;
};
const out = [];
for (const cell of document.querySelectorAll('th, td')) {
  const walk = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
  for (let t = walk.nextNode(); t; t = walk.nextNode()) {
    if (hidden(t.parentElement)) continue;
    const words = /\S+/g;
    for (let m = words.exec(t.data); m; m = words.exec(t.data)) {
      const word = m[0];
      const tops = [...range(t, m.index, m.index + word.length).getClientRects()]
        .filter((b) => b.width > 0)
        .map((b) => b.top);
      if (tops.every((y) => Math.abs(y - tops[0]) <= 2)) continue;
      // Where the new lines start: before the characters whose line differs from the last.
      const cuts = [];
      let last = null;
      for (let i = 0; i < word.length; i++) {
        const y = top(range(t, m.index + i, m.index + i + 1));
        if (y === null) continue;
        if (last !== null && Math.abs(y - last) > 2) cuts.push(i);
        last = y;
      }
      const compound =
        cell.tagName === 'TD' &&
        !/[0-9@]/.test(word) &&
        cuts.every((i) => /[-\u2010\u2013\u2014]/.test(word[i - 1]));
      if (compound) continue;
      let shown = '';
      let from = 0;
      for (const i of cuts) {
        shown += word.slice(from, i) + ' ⏎ ';
        from = i;
      }
      shown += word.slice(from);
      const text = cell.textContent.trim().replace(/\s+/g, ' ').slice(0, 60);
      out.push(`${cell.tagName.toLowerCase()} « ${text} » : « ${shown} »`);
    }
  }
}
return out;
