/**
 * Where an inner element stands in the parsed text: the byte frame of an HDon inside a T-VAN
 * TDiep, so that the stamp splices the seller's bytes of that HDon exactly as the whole-document
 * frame lets it do for a bare HDon. The scanner recorded every element's span: nothing is re-read.
 */
import { type Frame, frameOf, type XElement } from "./scan.js";

/** The frame of `el` (`outerStart`/`outerEnd` bound the element itself: a splice emits it only). */
export function elementFrame(_text: string, el: XElement): Frame {
  return frameOf(el, el.parentNode !== null);
}
