/**
 * The time window through the gate (api.md; issue 14, item 2). Validity is judged at SigningTime,
 * the seller's own claim: an expired certificate kept issuing invoices through a back-dated
 * SigningTime, and an NLap of 1970 was accepted. Both are refused now, at the business rules,
 * nothing stored; the batch and the T-VAN 200 run the same gate.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "../helpers/app.js";
import { buildInvoice, randomTaxCode } from "../helpers/invoice.js";
import { issueSellerCert } from "../helpers/pki.js";
import { expectIssued, expectRefused } from "../helpers/refusal.js";
import { nowGmt7, signInvoice } from "../helpers/sign.js";
import { readReply, tdiep } from "../helpers/tvan.js";

const HOUR = 3600_000;
const DAY = 24 * HOUR;
/** The service's clock: moved by the tests. */
let now = new Date();
let h: Harness;
/** A harness with a tighter window: 24 hours, 2 days (the settings take effect). */
let tight: Harness;

beforeAll(async () => {
  h = await startHarness({ clock: () => now });
});
beforeAll(async () => {
  tight = await startHarness({ clock: () => now, maxSigningLagHours: 24, maxIssueDateLagDays: 2 });
});
afterAll(async () => {
  await h?.close();
  await tight?.close();
});

const day = (d: Date) => nowGmt7(d).slice(0, 10);

/** A seller whose certificate is valid from 30 days ago until `notAfter`, registered while valid. */
async function sellerUntil(harness: Harness, notAfter: Date) {
  const taxCode = randomTaxCode();
  expect((await harness.call("POST", "/v1/sellers", { taxCode, name: `Công ty ${taxCode}`, address: "2 Hai Bà Trưng, Hà Nội" })).status).toBe(201);
  const cert = await issueSellerCert({ taxCode, notBefore: new Date(now.getTime() - 30 * DAY), notAfter });
  expect((await harness.call("POST", `/v1/sellers/${taxCode}/certificates`, { pem: cert.certPem })).status).toBe(201);
  const key = ((await (await harness.call("POST", `/v1/sellers/${taxCode}/api-keys`)).json()) as { key: string }).key;
  /** An invoice of `issueDate`, signed at `signedAt`. */
  const invoice = (issueDate: Date | string, signedAt: Date | null) =>
    signInvoice(buildInvoice({ sellerTaxCode: taxCode, issueDate: typeof issueDate === "string" ? issueDate : day(issueDate) }), {
      keyPem: cert.keyPem,
      certPem: cert.certPem,
      signingTime: signedAt === null ? null : nowGmt7(signedAt),
    });
  return { taxCode, key, invoice };
}

describe("SigningTime and NLap against the receipt", () => {
  it("refuses an expired certificate's invoice back-dated into its validity (SIGNING_TIME_OUT_OF_RANGE), nothing stored", async () => {
    now = new Date();
    const start = now;
    const s = await sellerUntil(h, new Date(start.getTime() + 2 * DAY));
    // Five days on, the certificate expired three days ago; the seller signs "as of" a day after registration.
    now = new Date(start.getTime() + 5 * DAY);
    const backDated = new Date(start.getTime() + DAY);
    const body = await expectRefused(h, s.invoice(backDated, backDated), "SIGNING_TIME_OUT_OF_RANGE", s.key);
    expect(body.error.details[0]!.path).toMatch(/SigningTime$/);
    // Honestly dated, it is what it is: signed after the certificate expired.
    await expectRefused(h, s.invoice(now, now), "CERT_EXPIRED", s.key);
  });

  it("refuses an NLap of 1970 (ISSUE_DATE_TOO_OLD), and one 8 days before the receipt, but takes one 7 days before", async () => {
    now = new Date();
    const s = await sellerUntil(h, new Date(now.getTime() + 365 * DAY));
    await expectRefused(h, s.invoice("1970-01-01", null), "ISSUE_DATE_TOO_OLD", s.key);
    await expectRefused(h, s.invoice(new Date(now.getTime() - 8 * DAY), null), "ISSUE_DATE_TOO_OLD", s.key);
    await expectIssued(h, s.invoice(new Date(now.getTime() - 7 * DAY), null), s.key);
  });

  it("refuses a SigningTime before NLap's day, or more than 72 hours before the receipt, and takes 71 hours", async () => {
    now = new Date();
    const s = await sellerUntil(h, new Date(now.getTime() + 365 * DAY));
    await expectRefused(h, s.invoice(now, new Date(now.getTime() - DAY)), "SIGNING_TIME_OUT_OF_RANGE", s.key);
    const fourDays = new Date(now.getTime() - 4 * DAY);
    await expectRefused(h, s.invoice(fourDays, fourDays), "SIGNING_TIME_OUT_OF_RANGE", s.key);
    const lag = new Date(now.getTime() - 71 * HOUR);
    await expectIssued(h, s.invoice(lag, lag), s.key);
  });

  it("refuses a SigningTime ahead of the receipt beyond the clock skew (SIGNING_TIME_OUT_OF_RANGE)", async () => {
    now = new Date();
    const s = await sellerUntil(h, new Date(now.getTime() + 365 * DAY));
    await expectRefused(h, s.invoice(now, new Date(now.getTime() + HOUR)), "SIGNING_TIME_OUT_OF_RANGE", s.key);
    await expectIssued(h, s.invoice(now, new Date(now.getTime() + 60_000)), s.key);
  });

  it("follows HOADON_MAX_SIGNING_LAG_HOURS and HOADON_MAX_ISSUE_DATE_LAG_DAYS", async () => {
    now = new Date();
    const s = await sellerUntil(tight, new Date(now.getTime() + 365 * DAY));
    const lag = new Date(now.getTime() - 25 * HOUR);
    await expectRefused(tight, s.invoice(lag, lag), "SIGNING_TIME_OUT_OF_RANGE", s.key);
    await expectRefused(tight, s.invoice(new Date(now.getTime() - 3 * DAY), now), "ISSUE_DATE_TOO_OLD", s.key);
    const fresh = new Date(now.getTime() - 23 * HOUR);
    await expectIssued(tight, s.invoice(fresh, fresh), s.key);
  });

  it("refuses the back-dated item of a batch on its own, and answers a T-VAN 200 with a 204 naming the code", async () => {
    now = new Date();
    const start = now;
    const s = await sellerUntil(h, new Date(start.getTime() + 2 * DAY));
    now = new Date(start.getTime() + 5 * DAY);
    const backDated = new Date(start.getTime() + DAY);
    const res = await h.call("POST", "/v1/invoices/batch", { invoices: [s.invoice(backDated, backDated), s.invoice("1970-01-01", backDated)] }, s.key);
    expect(res.status).toBe(200);
    const { results } = (await res.json()) as { results: { status: number; error?: { code: string } }[] };
    expect(results.map((r) => r.error?.code)).toEqual(["SIGNING_TIME_OUT_OF_RANGE", "ISSUE_DATE_TOO_OLD"]);
    expect(results.map((r) => r.status)).toEqual([422, 422]);

    const before = await h.store.countRows();
    const sent = tdiep("200", s.invoice(backDated, backDated), { mst: s.taxCode });
    const answer = await h.app.request("/v1/messages", { method: "POST", headers: { authorization: `Bearer ${s.key}`, "content-type": "application/xml" }, body: sent.xml });
    expect(answer.status).toBe(200);
    const reply = readReply(await answer.text());
    expect(reply.ttchung.MLTDiep).toBe("204");
    expect(reply.all("TBao/DLTBao/LCMa/DSLDo/LDo/MLoi")).toEqual(["2106"]);
    // Only the message and its answer are recorded.
    const after = await h.store.countRows();
    expect(Object.entries(after).filter(([t, n]) => n !== before[t]).map(([t]) => t).sort()).toEqual(["tvan_messages"]);
  });
});
