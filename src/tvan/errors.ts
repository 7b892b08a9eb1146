/**
 * The T-VAN error table: every error code of the API (src/errors.ts) as the 4-character MLoi of
 * a notice (204 LCMa/DSLDo/LDo, 301 DSLDKTNhan/LDo, 999 DSLDo/LDo), with its Vietnamese
 * description (MTLoi) and what the sender should do about it (HDXLy). One row per ErrorCode:
 * a new code in src/errors.ts does not compile until it has its row here. docs/lifecycle.md renders it
 * (`npm run tvan:errors`), and a test keeps the two in agreement.
 *
 * MLoi blocks: 1xxx the message and its XML, 2xxx signatures and certificates, 3xxx the
 * invoice's data, 4xxx the register (seller, duplicates, related invoices), 5xxx access,
 * 9xxx the service itself.
 */
import type { ErrorCode } from "../errors.js";

export interface TvanError {
  /** MLoi: 4 characters. */
  mloi: string;
  /** MTLoi: what is wrong, in Vietnamese. */
  mtloi: string;
  /** HDXLy: how to fix it, in Vietnamese. */
  hdxly: string;
}

export const TVAN_ERRORS = {
  XML_MALFORMED: {
    mloi: "1001",
    mtloi: "Thông điệp không đúng định dạng XML (không phải UTF-8, sai cú pháp hoặc sai phần tử gốc).",
    hdxly: "Lập lại thông điệp theo đúng định dạng XML UTF-8 của Quyết định 1450/QĐ-TCT và gửi lại với mã thông điệp mới.",
  },
  XML_FORBIDDEN_CONSTRUCT: {
    mloi: "1002",
    mtloi: "Thông điệp chứa thành phần XML không được phép (DOCTYPE, thực thể, chú thích, chỉ thị xử lý) hoặc quá sâu, quá nhiều nút.",
    hdxly: "Loại bỏ DOCTYPE, thực thể, chú thích và chỉ thị xử lý khỏi thông điệp rồi gửi lại.",
  },
  BAD_REQUEST: {
    mloi: "1003",
    mtloi: "Yêu cầu không hợp lệ.",
    hdxly: "Kiểm tra lại nội dung yêu cầu theo tài liệu kết nối rồi gửi lại.",
  },
  PAYLOAD_TOO_LARGE: {
    mloi: "1004",
    mtloi: "Dung lượng thông điệp hoặc hóa đơn vượt quá giới hạn cho phép (2 MB).",
    hdxly: "Giảm dung lượng (bớt dữ liệu đính kèm không cần thiết) hoặc tách thành nhiều thông điệp.",
  },
  UNSUPPORTED_MEDIA_TYPE: {
    mloi: "1005",
    mtloi: "Kiểu nội dung gửi lên không được hỗ trợ.",
    hdxly: "Gửi thông điệp với Content-Type application/xml, mã hóa UTF-8.",
  },
  CODE_ALREADY_PRESENT: {
    mloi: "2001",
    mtloi: "Hóa đơn gửi cấp mã đã có mã của cơ quan thuế (MCCQT) hoặc chữ ký của cơ quan thuế.",
    hdxly: "Gửi hóa đơn chưa có MCCQT và chữ ký CQT; không gửi lại hóa đơn đã được cấp mã.",
  },
  SIGNATURE_MISSING: {
    mloi: "2002",
    mtloi: "Không có chữ ký số của người bán (DSCKS/NBan/Signature).",
    hdxly: "Ký số hóa đơn bằng chứng thư số của người bán đã đăng ký rồi gửi lại.",
  },
  SIGNATURE_PROFILE: {
    mloi: "2003",
    mtloi: "Chữ ký số không đúng cấu trúc quy định (tham chiếu, Id trùng, phép biến đổi không được phép).",
    hdxly: "Ký lại với một Signature trong DSCKS/NBan tham chiếu đến DLHDon qua Id duy nhất, chỉ dùng phép biến đổi enveloped-signature và C14N.",
  },
  ALGORITHM_NOT_ALLOWED: {
    mloi: "2004",
    mtloi: "Thuật toán ký hoặc băm không được chấp nhận.",
    hdxly: "Ký lại bằng RSA hoặc ECDSA với SHA-256, SHA-384 hoặc SHA-512.",
  },
  SIGNATURE_INVALID: {
    mloi: "2005",
    mtloi: "Chữ ký số không hợp lệ: dữ liệu đã bị thay đổi sau khi ký hoặc giá trị chữ ký sai.",
    hdxly: "Không sửa dữ liệu sau khi ký; ký lại hóa đơn rồi gửi lại.",
  },
  CERT_UNTRUSTED: {
    mloi: "2101",
    mtloi: "Chứng thư số không do tổ chức cung cấp dịch vụ chứng thực chữ ký số được công nhận cấp, hoặc không dùng để ký.",
    hdxly: "Ký bằng chứng thư số hợp lệ do tổ chức chứng thực được công nhận cấp, có mục đích ký số.",
  },
  CERT_EXPIRED: {
    mloi: "2102",
    mtloi: "Chứng thư số hết hạn hoặc chưa có hiệu lực tại thời điểm ký.",
    hdxly: "Gia hạn hoặc thay chứng thư số, đăng ký với cơ quan thuế rồi ký lại.",
  },
  CERT_REVOKED: {
    mloi: "2103",
    mtloi: "Chứng thư số đã bị thu hồi.",
    hdxly: "Đề nghị cấp chứng thư số mới, đăng ký với cơ quan thuế rồi ký lại.",
  },
  CERT_TAX_CODE_MISMATCH: {
    mloi: "2104",
    mtloi: "Mã số thuế trong chứng thư số (UID=MST:) không khớp với mã số thuế người bán.",
    hdxly: "Ký bằng chứng thư số cấp cho chính mã số thuế người bán ghi trên hóa đơn.",
  },
  CERT_NOT_REGISTERED: {
    mloi: "2105",
    mtloi: "Chứng thư số chưa được đăng ký với cơ quan thuế hoặc đã ngừng sử dụng.",
    hdxly: "Đăng ký chứng thư số theo mẫu 01/ĐKTĐ-HĐĐT hoặc ký bằng chứng thư số đang sử dụng.",
  },
  SCHEMA_INVALID: {
    mloi: "3001",
    mtloi: "Dữ liệu thiếu chỉ tiêu bắt buộc hoặc sai định dạng.",
    hdxly: "Bổ sung, sửa chỉ tiêu được nêu trong ghi chú (đường dẫn phần tử) theo Quyết định 1450/QĐ-TCT rồi gửi lại.",
  },
  TAX_CODE_INVALID: {
    mloi: "3002",
    mtloi: "Mã số thuế không hợp lệ (sai cấu trúc hoặc chữ số kiểm tra).",
    hdxly: "Kiểm tra và sửa mã số thuế người bán, người mua.",
  },
  SYMBOL_YEAR_MISMATCH: {
    mloi: "3003",
    mtloi: "Năm trên ký hiệu hóa đơn (KHHDon) khác năm của ngày lập (NLap).",
    hdxly: "Dùng ký hiệu hóa đơn có hai chữ số năm trùng với năm lập hóa đơn.",
  },
  ISSUE_DATE_IN_FUTURE: {
    mloi: "3004",
    mtloi: "Ngày lập hóa đơn sau ngày cơ quan thuế nhận (giờ Việt Nam).",
    hdxly: "Sửa ngày lập hóa đơn không muộn hơn ngày gửi cấp mã.",
  },
  ISSUE_DATE_TOO_OLD: {
    mloi: "3007",
    mtloi: "Ngày lập hóa đơn sớm hơn ngày cơ quan thuế nhận quá số ngày cho phép.",
    hdxly: "Hóa đơn có mã phải được gửi cấp mã ngay khi lập; lập hóa đơn mới với ngày lập là ngày gửi.",
  },
  SIGNING_TIME_OUT_OF_RANGE: {
    mloi: "2106",
    mtloi: "Thời điểm ký số (SigningTime) trước ngày lập hóa đơn, sau thời điểm nhận hoặc sớm hơn thời điểm nhận quá số giờ cho phép.",
    hdxly: "Kiểm tra đồng hồ của máy ký; ký lại hóa đơn và gửi cấp mã ngay sau khi ký.",
  },
  TOTALS_MISMATCH: {
    mloi: "3005",
    mtloi: "Số tiền trên hóa đơn không khớp (thành tiền, tiền thuế theo thuế suất, tổng cộng) hoặc có số âm trên hóa đơn không phải điều chỉnh.",
    hdxly: "Tính lại thành tiền, tiền thuế từng thuế suất và tổng tiền thanh toán; chỉ hóa đơn điều chỉnh giảm được ghi số âm.",
  },
  SELLER_NOT_REGISTERED: {
    mloi: "4001",
    mtloi: "Người bán chưa đăng ký sử dụng hóa đơn điện tử có mã.",
    hdxly: "Đăng ký sử dụng hóa đơn điện tử theo mẫu 01/ĐKTĐ-HĐĐT và chờ chấp nhận.",
  },
  SELLER_SUSPENDED: {
    mloi: "4002",
    mtloi: "Người bán đang bị tạm ngừng sử dụng hóa đơn hoặc đã ngừng hoạt động.",
    hdxly: "Liên hệ cơ quan thuế quản lý để được khôi phục việc sử dụng hóa đơn.",
  },
  DUPLICATE_INVOICE: {
    mloi: "4003",
    mtloi: "Đã có hóa đơn khác được cấp mã với cùng mẫu số, ký hiệu và số hóa đơn.",
    hdxly: "Dùng số hóa đơn tiếp theo chưa sử dụng; nếu cần sửa hóa đơn đã cấp mã thì lập hóa đơn thay thế hoặc điều chỉnh.",
  },
  RELATED_INVOICE_NOT_FOUND: {
    mloi: "4004",
    mtloi: "Không tìm thấy hóa đơn bị thay thế, điều chỉnh hoặc thông báo sai sót trong các hóa đơn có mã của người bán.",
    hdxly: "Kiểm tra mẫu số, ký hiệu, số, ngày lập và mã CQT của hóa đơn liên quan (TTHDLQuan, HDon).",
  },
  RELATED_INVOICE_STATE: {
    mloi: "4005",
    mtloi: "Hóa đơn liên quan đã bị thay thế hoặc đã bị hủy.",
    hdxly: "Không thay thế, điều chỉnh hay hủy lại hóa đơn đã bị thay thế hoặc hủy; lập tiếp trên hóa đơn thay thế còn hiệu lực.",
  },
  NOT_REGISTERED_FOR_KIND: {
    mloi: "4008",
    mtloi: "Người bán chưa đăng ký hình thức hóa đơn hoặc phương thức chuyển dữ liệu này.",
    hdxly: "Đăng ký hoặc thay đổi thông tin sử dụng hóa đơn điện tử (01/ĐKTĐ-HĐĐT) cho hình thức hóa đơn, phương thức chuyển dữ liệu này và chờ chấp nhận.",
  },
  CASH_REGISTER_CODE_INVALID: {
    mloi: "3006",
    mtloi: "Mã hóa đơn khởi tạo từ máy tính tiền sai cấu trúc hoặc không khớp loại hóa đơn, năm lập, dải ký tự được cấp.",
    hdxly: "Tạo mã theo cấu trúc M<loại hóa đơn>-<năm lập>-<dải ký tự cơ quan thuế cấp>-<11 chữ số> rồi gửi lại.",
  },
  SUMMARY_SEQUENCE: {
    mloi: "4009",
    mtloi: "Số bảng tổng hợp, lần đầu hoặc lần bổ sung không đúng thứ tự trong kỳ dữ liệu.",
    hdxly: "Gửi bảng tổng hợp lần đầu số 1 của kỳ trước, các lần bổ sung tiếp theo đúng thứ tự số bảng và số lần bổ sung.",
  },
  NOT_FOUND: {
    mloi: "4006",
    mtloi: "Không tìm thấy đối tượng được yêu cầu.",
    hdxly: "Kiểm tra lại mã hoặc thông tin tra cứu.",
  },
  CONFLICT: {
    mloi: "4007",
    mtloi: "Đối tượng đã tồn tại.",
    hdxly: "Không gửi lại yêu cầu tạo mới đã được thực hiện.",
  },
  UNAUTHENTICATED: {
    mloi: "5001",
    mtloi: "Chưa xác thực hoặc khóa truy cập không đúng.",
    hdxly: "Gửi kèm khóa truy cập (API key) do cơ quan thuế cấp cho người bán.",
  },
  FORBIDDEN: {
    mloi: "5002",
    mtloi: "Khóa truy cập không được phép gửi dữ liệu của mã số thuế này.",
    hdxly: "Dùng khóa truy cập cấp cho chính mã số thuế người bán trên thông điệp và hóa đơn.",
  },
  RATE_LIMITED: {
    mloi: "5003",
    mtloi: "Gửi quá nhiều yêu cầu trong thời gian ngắn.",
    hdxly: "Chờ theo Retry-After rồi gửi lại.",
  },
  INTERNAL: {
    mloi: "9001",
    mtloi: "Lỗi hệ thống của cơ quan thuế.",
    hdxly: "Gửi lại sau; nếu lỗi lặp lại, liên hệ bộ phận hỗ trợ kèm mã yêu cầu.",
  },
  UNAVAILABLE: {
    mloi: "9002",
    mtloi: "Hệ thống của cơ quan thuế tạm thời gián đoạn.",
    hdxly: "Gửi lại sau ít phút với cùng mã thông điệp.",
  },
} as const satisfies Record<ErrorCode, TvanError>;

/** The T-VAN form of an error code. */
export function tvanError(code: ErrorCode): TvanError {
  return TVAN_ERRORS[code];
}

/** The table as Markdown, for docs/lifecycle.md (`npm run tvan:errors`). */
export function renderTvanErrors(): string {
  const rows = (Object.entries(TVAN_ERRORS) as [ErrorCode, TvanError][]).sort((a, b) => (a[1].mloi < b[1].mloi ? -1 : 1));
  return ["| MLoi | code | MTLoi | HDXLy |", "|---|---|---|---|", ...rows.map(([code, e]) => `| ${e.mloi} | \`${code}\` | ${e.mtloi} | ${e.hdxly} |`)].join("\n");
}
