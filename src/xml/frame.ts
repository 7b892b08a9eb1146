/**
 * Where an inner element stands in the parsed text: the byte frame of an HDon inside a T-VAN
 * TDiep, so that the stamp splices the seller's bytes of that HDon exactly as the whole-document
 * frame of the pre-scan lets it do for a bare HDon.
 */
import type { Frame } from "./parse.js";

/** The index of each element on the way from the document element down to `el` (the document element itself: []). */
function indexPath(el: Element): number[] {
  const path: number[] = [];
  for (let n: Element = el; n.parentNode && n.parentNode.nodeType === 1; n = n.parentNode as Element) {
    let i = 0;
    for (let s = n.previousSibling; s; s = s.previousSibling) if (s.nodeType === 1) i++;
    path.unshift(i);
  }
  return path;
}

function tagName(text: string, lt: number): string {
  const m = /^<([^\s/>]+)/.exec(text.slice(lt, lt + 200));
  return m ? m[1]! : "";
}

/**
 * The frame of `el` within `text`, the text `el`'s document was parsed from. The text has passed
 * the pre-scan (no comments, processing instructions or declarations past the XML declaration),
 * so one linear walk over its tags, honouring quoted attribute values and CDATA sections, finds
 * the element by its position among its siblings. `outerStart`/`outerEnd` bound the element
 * itself: a splice of this frame emits the element only, not the envelope around it.
 */
export function elementFrame(text: string, el: Element): Frame {
  const path = indexPath(el);
  const counts: number[] = [0];
  // onPath[d]: the open element at depth d lies on the path to the target.
  const onPath: boolean[] = [];
  let depth = 0;
  let frame: Frame | null = null;
  let childStart = -1;
  let i = 0;
  for (;;) {
    const lt = text.indexOf("<", i);
    if (lt === -1) break;
    const next = text.charCodeAt(lt + 1);
    if (next === 0x3f /* ? the XML declaration */) {
      i = text.indexOf("?>", lt) + 2;
      continue;
    }
    if (next === 0x21 /* ! CDATA */) {
      i = text.indexOf("]]>", lt) + 3;
      continue;
    }
    if (next === 0x2f /* / */) {
      const gt = text.indexOf(">", lt);
      depth--;
      if (frame && depth === path.length + 1) {
        frame.children.push({ name: tagName(text, childStart), start: childStart, end: gt + 1 });
      } else if (frame && depth === path.length) {
        frame.rootCloseStart = lt;
        frame.outerEnd = gt + 1;
        return frame;
      }
      i = gt + 1;
      continue;
    }
    let j = lt + 1;
    let quote = 0;
    for (; j < text.length; j++) {
      const c = text.charCodeAt(j);
      if (quote) {
        if (c === quote) quote = 0;
      } else if (c === 0x22 || c === 0x27) quote = c;
      else if (c === 0x3e /* > */) break;
    }
    const selfClosing = text.charCodeAt(j - 1) === 0x2f;
    const index = counts[depth]!;
    counts[depth] = index + 1;
    const parentOnPath = depth === 0 || onPath[depth - 1] === true;
    const here = parentOnPath && (depth === 0 || path[depth - 1] === index);
    if (here && depth === path.length) {
      frame = { outerStart: lt, rootOpenEnd: j + 1, rootCloseStart: j + 1, outerEnd: j + 1, children: [] };
      if (selfClosing) return frame;
    } else if (frame && depth === path.length + 1) {
      childStart = lt;
      if (selfClosing) frame.children.push({ name: tagName(text, lt), start: lt, end: j + 1 });
    }
    if (!selfClosing) {
      onPath[depth] = here;
      depth++;
      counts[depth] = 0;
    }
    i = j + 1;
  }
  throw new Error("elementFrame: the element is not in the text it was parsed from");
}
