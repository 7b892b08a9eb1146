/**
 * The QR of an invoice as an SVG image (qrcode-generator: pure JavaScript, no canvas, no
 * files, so it runs on Workers too). The pages draw it from the verified record, never from a
 * DLQRCode read out of a document: that element is not covered by any signature.
 */
import qrcode from "qrcode-generator";

/** The module matrix of `text` (error correction M, the smallest version that holds it). */
export function qrMatrix(text: string): boolean[][] {
  const qr = qrcode(0, "M");
  qr.addData(text, "Byte");
  qr.make();
  const n = qr.getModuleCount();
  return Array.from({ length: n }, (_, r) => Array.from({ length: n }, (_, c) => qr.isDark(r, c)));
}

/** A standalone SVG document: one path of dark modules on white, with the 4-module quiet zone. */
export function qrSvg(text: string): string {
  const m = qrMatrix(text);
  const size = m.length + 8;
  let d = "";
  m.forEach((row, r) =>
    row.forEach((dark, c) => {
      if (dark) d += `M${c + 4} ${r + 4}h1v1h-1z`;
    }),
  );
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${size} ${size}" shape-rendering="crispEdges">` +
    `<rect width="${size}" height="${size}" fill="#fff"/><path d="${d}" fill="#000"/></svg>`
  );
}

/** The SVG as a data: URL for an <img> (the pages' CSP allows img-src data:). */
export function qrDataUrl(text: string): string {
  return `data:image/svg+xml;base64,${btoa(qrSvg(text))}`;
}
