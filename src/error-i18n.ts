/**
 * Error messages in Vietnamese (the default) or English, chosen at the HTTP edge by
 * Accept-Language. The code, the details' codes and paths never change; only the messages do.
 *
 * English is what the throw sites wrote. Vietnamese is, for the error itself and each detail:
 * - a translation of the English message when it matches one of the message patterns below
 *   (the parameters — codes, numbers, tax codes, paths — are carried over);
 * - otherwise the MTLoi of its code (src/tvan/errors.ts: the Vietnamese text the T-VAN channel
 *   already sends for every code), so that no message is ever left in English.
 */
import type { ErrorCode, Fault } from "./errors.js";
import { TVAN_ERRORS } from "./tvan/errors.js";

export type Lang = "vi" | "en";

/**
 * The language of Accept-Language: the `vi` or `en` range with the highest q (a tie goes to the
 * one listed first); `*` or nothing we speak means Vietnamese.
 */
export function pickLanguage(header: string | undefined | null): Lang {
  if (!header) return "vi";
  let best: { lang: Lang; q: number } | null = null;
  for (const part of header.split(",")) {
    const [range, ...params] = part.trim().toLowerCase().split(";");
    const primary = range!.trim().split("-")[0];
    if (primary !== "vi" && primary !== "en") continue;
    const qp = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    const q = qp ? Number(qp.slice(2)) : 1;
    if (!Number.isFinite(q) || q <= 0) continue;
    if (!best || q > best.q) best = { lang: primary, q };
  }
  return best?.lang ?? "vi";
}

const ROLE_VI: Record<string, string> = { admin: "quản trị viên", officer: "cán bộ thuế", seller: "người bán" };
const STATUS_VI: Record<string, string> = {
  issued: "đã cấp mã",
  adjusted: "đã bị điều chỉnh",
  replaced: "đã bị thay thế",
  cancelled: "đã bị hủy",
  suspended: "đang tạm ngừng sử dụng hóa đơn",
  ceased: "đã ngừng hoạt động",
  "not registered": "chưa được đăng ký",
};
const vi = (table: Record<string, string>, s: string) => table[s] ?? s;

/** English message patterns (anchored) and their Vietnamese form. Order matters: the first match wins. */
const PATTERNS: Array<[RegExp, (...m: string[]) => string]> = [
  [/^Certificate (\S+) is already registered to seller (\S+)\.$/, (s, t) => `Chứng thư số ${s} đã được đăng ký cho người bán ${t}.`],
  [/^Seller (\S+) is already registered\.$/, (t) => `Người bán ${t} đã được đăng ký.`],
  [/^Invoice ([^/\s]+)\/([^/\s]+)\/(\S+) was already issued with code (\S+)\.$/, (f, s, n, c) => `Hóa đơn mẫu số ${f}, ký hiệu ${s}, số ${n} đã được cấp mã ${c}.`],
  [/^Invoice (\S+) is (\w+); only an issued or adjusted invoice can be cancelled\.$/, (c, st) => `Hóa đơn ${c} ${vi(STATUS_VI, st)}; chỉ hủy được hóa đơn đã cấp mã hoặc đã bị điều chỉnh.`],
  [
    /^The related invoice (\S+) is (\w+); only an issued or adjusted invoice can be replaced or adjusted\.$/,
    (c, st) => `Hóa đơn liên quan ${c} ${vi(STATUS_VI, st)}; chỉ thay thế hoặc điều chỉnh được hóa đơn đã cấp mã hoặc đã bị điều chỉnh.`,
  ],
  [/^TTHDLQuan names invoice (.+), which seller (\S+) was not issued a code for\.$/, (inv, t) => `TTHDLQuan nêu hóa đơn ${inv}, không phải hóa đơn đã được cấp mã của người bán ${t}.`],
  [/^A seller's key searches only that seller's invoices\.$/, () => "Khóa truy cập của người bán chỉ tra cứu được hóa đơn của chính người bán đó."],
  [/^Searching invoices is for officers and sellers\.$/, () => "Chỉ cán bộ thuế và người bán được tra cứu hóa đơn."],
  [/^The form's CSRF token does not match this session\.$/, () => "Mã chống giả mạo (CSRF) của biểu mẫu không khớp với phiên đăng nhập."],
  [/^This API key belongs to another seller than the invoice's \(NBan\/MST\)\.$/, () => "Khóa truy cập thuộc về người bán khác với người bán trên hóa đơn (NBan/MST)."],
  [/^This credential may not act for this seller\.$/, () => "Thông tin xác thực này không được thao tác cho người bán này."],
  [/^This invoice belongs to another seller\.$/, () => "Hóa đơn này thuộc về người bán khác."],
  [/^This operation is for: (.+)\.$/, (roles) => `Thao tác này chỉ dành cho: ${roles.split(", ").map((r) => vi(ROLE_VI, r)).join(", ")}.`],
  [/^No invoice was issued with this code\.$/, () => "Không có hóa đơn nào được cấp mã này."],
  [/^No invoice with this seller, form, symbol, number and total\.$/, () => "Không có hóa đơn nào với người bán, mẫu số, ký hiệu, số và tổng tiền thanh toán này."],
  [/^(\S+) is missing from public\/\.$/, (p) => `Thiếu tệp ${p} trong thư mục public/.`],
  [/^No active certificate (\S+) for seller (\S+)\.$/, (s, t) => `Người bán ${t} không có chứng thư số ${s} đang sử dụng.`],
  [/^No invoice (\S+)\.$/, (c) => `Không có hóa đơn ${c}.`],
  [/^Seller (\S+) is not registered\.$/, (t) => `Người bán ${t} chưa được đăng ký.`],
  [/^Seller (\S+) is (suspended|ceased|not registered)\.$/, (t, st) => `Người bán ${t} ${vi(STATUS_VI, st)}.`],
  [/^The body is over (\d+) bytes\.$/, (n) => `Nội dung yêu cầu vượt quá ${n} byte.`],
  [/^Retry after (\d+) s\.$/, (n) => `Gửi lại sau ${n} giây.`],
  [/^The body is not a PEM certificate\.$/, () => "Nội dung không phải chứng thư số dạng PEM."],
  [/^not a PEM certificate$/, () => "không phải chứng thư số dạng PEM"],
  [/^The request body or parameters are invalid\.$/, () => "Nội dung hoặc tham số của yêu cầu không hợp lệ."],
  [/^The body is not valid JSON\.$/, () => "Nội dung yêu cầu không phải JSON hợp lệ."],
  [/^not a cursor of this list$/, () => "không phải con trỏ (cursor) của danh sách này"],
  [/^cursor: not a cursor of this list\.$/, () => "cursor: không phải con trỏ (cursor) của danh sách này."],
  [/^Tax code (\S+): (.+)$/, (t, why) => `Mã số thuế ${t}: ${translateTaxCodeReason(why)}.`],
  [/^Send Authorization: Bearer <HOADON_METRICS_TOKEN>\.$/, () => "Gửi kèm Authorization: Bearer <HOADON_METRICS_TOKEN>."],
  [/^Send Authorization: Bearer <token or API key>\.$/, () => "Gửi kèm Authorization: Bearer <mã truy cập hoặc khóa API>."],
  [/^Unknown token or API key\.$/, () => "Mã truy cập hoặc khóa API không đúng."],
  [/^Send the TDiep as application\/xml \(UTF-8\)\.$/, () => "Gửi thông điệp TDiep với Content-Type application/xml (UTF-8)."],
  [/^Send the certificate as application\/x-pem-file or as JSON \{pem\}\.$/, () => "Gửi chứng thư số với Content-Type application/x-pem-file hoặc dạng JSON {pem}."],
  [/^Send the invoice as application\/xml \(UTF-8\)\.$/, () => "Gửi hóa đơn với Content-Type application/xml (UTF-8)."],
  [/^No such endpoint\.$/, () => "Không có địa chỉ (endpoint) này."],
  // The business rules (src/domain/rules.ts): amounts and element names carried over.
  [/^negative amount (\S+): only an adjusting invoice \(TTHDLQuan\/TCHDon = 2\) may carry negative amounts$/, (v) => `số tiền âm ${v}: chỉ hóa đơn điều chỉnh (TTHDLQuan/TCHDon = 2) được ghi số âm`],
  [/^(\S+) is not a whole number of đồng \(VND totals are whole\)$/, (v) => `${v} không phải số đồng nguyên (số tiền VND phải là số nguyên)`],
  [/^ThTien of (\S+) is (\S+) but its lines sum to (\S+)$/, (r, a, b) => `ThTien của thuế suất ${r} là ${a} nhưng tổng thành tiền các dòng là ${b}`],
  [/^TThue of (\S+) is (\S+) but (\S+) × (\S+) is (\S+) \(±1 allowed\)$/, (r, a, base, r2, b) => `TThue của thuế suất ${r} là ${a} nhưng ${base} × ${r2} là ${b} (cho phép chênh lệch ±1)`],
  [/^lines at (\S+) sum to (\S+) but there is no LTSuat for (\S+)$/, (r, a) => `các dòng thuế suất ${r} có tổng ${a} nhưng không có LTSuat cho thuế suất ${r}`],
  [/^TgTCThue is (\S+) but (.+) is (\S+)$/, (a, how, b) => `TgTCThue là ${a} nhưng ${how} là ${b}`],
  [/^TgTThue is (\S+) but Σ LTSuat\.TThue is (\S+)$/, (a, b) => `TgTThue là ${a} nhưng Σ LTSuat.TThue là ${b}`],
  [/^TgTTTBSo is (\S+) but (.+) is (\S+) \(±1 allowed\)$/, (a, how, b) => `TgTTTBSo là ${a} nhưng ${how} là ${b} (cho phép chênh lệch ±1)`],
  [/^(seller|buyer) tax code ("[^"]*"): (.+)$/, (who, t, why) => `mã số thuế ${who === "seller" ? "người bán" : "người mua"} ${t}: ${translateTaxCodeReason(why)}`],
  [/^symbol (\S+) names year (\S+) but NLap (\S+) is in year (\S+)$/, (sym, y, d, y2) => `ký hiệu ${sym} ghi năm ${y} nhưng ngày lập ${d} thuộc năm ${y2}`],
  [/^NLap (\S+) is after the day of receipt (\S+) \(GMT\+7\)$/, (d, t) => `ngày lập ${d} sau ngày cơ quan thuế nhận ${t} (giờ Việt Nam)`],
  [/^required element is missing$/, () => "thiếu chỉ tiêu bắt buộc"],
  [/^Required$/, () => "bắt buộc"],
];

const TAX_CODE_REASONS: Array<[RegExp, (...m: string[]) => string]> = [
  [/^wrong check digit$/, () => "sai chữ số kiểm tra"],
  [/^no valid check digit exists for these 9 digits \(such codes are never issued\)$/, () => "không có chữ số kiểm tra hợp lệ cho 9 chữ số này (mã như vậy không bao giờ được cấp)"],
  [/^branch number 000 is never issued$/, () => "số đơn vị phụ thuộc 000 không bao giờ được cấp"],
  [/^expected 10 digits, 10 digits \+ '-' \+ 3 digits, or 12 digits$/, () => "phải gồm 10 chữ số, 10 chữ số + '-' + 3 chữ số, hoặc 12 chữ số"],
  [/^not a string$/, () => "không phải chuỗi ký tự"],
];

function translateTaxCodeReason(why: string): string {
  const m = /^branch of an invalid tax code: (.+)$/.exec(why);
  if (m) return `đơn vị phụ thuộc của mã số thuế không hợp lệ: ${translateTaxCodeReason(m[1]!)}`;
  for (const [re, f] of TAX_CODE_REASONS) {
    const r = re.exec(why);
    if (r) return f(...r.slice(1));
  }
  return TVAN_ERRORS.TAX_CODE_INVALID.mtloi;
}

/** The Vietnamese text of a message of `code`: a known pattern, else the code's MTLoi. */
export function vietnamese(code: ErrorCode, english: string): string {
  for (const [re, f] of PATTERNS) {
    const m = re.exec(english);
    if (m) return f(...m.slice(1));
  }
  // `path: message.` of a schema refusal: keep the path, translate the message.
  const schema = /^([\w/@[\].-]+): (.+?)\.?$/.exec(english);
  if (schema && code === "SCHEMA_INVALID") return `${schema[1]}: ${vietnamese(code, schema[2]!)}`;
  return TVAN_ERRORS[code].mtloi;
}

/** The message of `code` in `lang` (English as written at the throw site). */
export function localizedMessage(code: ErrorCode, english: string, lang: Lang): string {
  return lang === "en" ? english : vietnamese(code, english);
}

/** The error envelope's message and every detail's, in `lang`. */
export function localizeError<T extends { code: ErrorCode; message: string; details: Fault[] }>(e: T, lang: Lang): T {
  if (lang === "en") return e;
  return { ...e, message: vietnamese(e.code, e.message), details: e.details.map((d) => ({ ...d, message: vietnamese(d.code, d.message) })) };
}
