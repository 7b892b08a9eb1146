/**
 * Reads the QR a page shows, as a phone camera would: the <img>'s SVG data URL is rasterized
 * (each dark module of its path a block of pixels, on white) and decoded by jsQR, an independent
 * decoder (not the generator the pages use).
 */
import jsqr from "jsqr";

// A CommonJS module whose typings declare an ES default export: callable either way at run time.
const jsQR = ((jsqr as unknown as { default?: unknown }).default ?? jsqr) as unknown as (data: Uint8ClampedArray, width: number, height: number) => { data: string } | null;

const SCALE = 4;

/** The text of the QR in the page's first `<img src="data:image/svg+xml;base64,…">` after `after` (default: anywhere). */
export function readPageQr(html: string, after = ""): string {
  const from = after ? html.indexOf(after) : 0;
  if (from < 0) throw new Error(`no ${after} in the page`);
  const m = /<img src="data:image\/svg\+xml;base64,([^"]+)"/.exec(html.slice(from));
  if (!m) throw new Error("no QR image in the page");
  return readSvgQr(Buffer.from(m[1]!, "base64").toString("utf8"));
}

/** Decodes an SVG of one path of unit squares ("M x y h1v1h-1z") on a square viewBox. */
export function readSvgQr(svg: string): string {
  const size = Number(/viewBox="0 0 (\d+) \d+"/.exec(svg)?.[1]);
  if (!size) throw new Error("no viewBox");
  const px = size * SCALE;
  const rgba = new Uint8ClampedArray(px * px * 4).fill(255);
  for (const [, x, y] of svg.matchAll(/M(\d+) (\d+)h1v1h-1z/g)) {
    for (let dy = 0; dy < SCALE; dy++)
      for (let dx = 0; dx < SCALE; dx++) {
        const i = ((Number(y) * SCALE + dy) * px + Number(x) * SCALE + dx) * 4;
        rgba[i] = rgba[i + 1] = rgba[i + 2] = 0;
      }
  }
  const out = jsQR(rgba, px, px);
  if (!out) throw new Error("the QR cannot be decoded");
  return out.data;
}
