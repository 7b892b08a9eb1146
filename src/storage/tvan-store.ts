/**
 * T-VAN records beyond the message log (tvan.md §13): the answers after a message's first, the
 * registrations of 100s and their decisions, the notices' numbers. `registrationWork` runs inside
 * the transaction that records a message (messages.ts); `PgTvanStore` serves the reads
 * and the officer's decision.
 */
import { randomBytes } from "node:crypto";
import type { Reason, RecordedMessage, RegistrationContent, RegistrationQuery, RegistrationRecord, RegistrationStatus, RegistrationWork } from "../domain/ports.js";
import { type Db, sql } from "./db.js";

export type { Reason, RecordedMessage, RegistrationQuery, RegistrationRecord, RegistrationWork } from "../domain/ports.js";

interface RegistrationRow {
  id: string;
  seller_tax_code: string;
  message_id: string;
  kind: "new" | "change";
  received_at: Date;
  status: RegistrationStatus;
  hold_reasons: Reason[] | string;
  content: RegistrationContent | string;
  decided_at: Date | null;
  decided_by: string | null;
  decision_reasons: Reason[] | string | null;
}

const json = <T>(v: T | string): T => (typeof v === "string" ? (JSON.parse(v) as T) : v);
const COLUMNS = sql`id, seller_tax_code, message_id, kind, received_at, status, hold_reasons, content, decided_at, decided_by, decision_reasons`;

function toRecord(r: RegistrationRow): RegistrationRecord {
  const content = json<RegistrationContent | Record<string, never>>(r.content);
  return {
    id: r.id,
    sellerTaxCode: r.seller_tax_code,
    messageId: r.message_id,
    kind: r.kind,
    receivedAt: r.received_at,
    status: r.status,
    holdReasons: json(r.hold_reasons),
    content: "hthuc" in content ? (content as RegistrationContent) : null,
    decidedAt: r.decided_at,
    decidedBy: r.decided_by,
    decisionReasons: r.decision_reasons === null ? null : json(r.decision_reasons),
  };
}


const RANGE_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
/** Five characters of [0-9A-Z], uniformly from the CSPRNG (rejection sampling: 252 = 7 × 36). */
function drawRange(): string {
  let out = "";
  while (out.length < 5) for (const b of randomBytes(8)) if (b < 252 && out.length < 5) out += RANGE_ALPHABET[b % 36];
  return out;
}

/** Serial normalized as the form's: no leading zeros. */
const bare = (serial: string) => serial.replace(/^0+(?=.)/, "");

export function registrationWork(tx: Db): RegistrationWork {
  return {
    async lastAccepted(seller) {
      const rows = await tx.query<RegistrationRow>(sql`
        select ${COLUMNS} from registrations where seller_tax_code = ${seller} and status = 'accepted'
        order by decided_at desc, received_at desc limit 1`);
      return rows[0] ? toRecord(rows[0]) : null;
    },
    async hasPending(seller) {
      const rows = await tx.query<{ n: bigint }>(sql`select count(*) as n from registrations where seller_tax_code = ${seller} and status = 'pending'`);
      return BigInt(rows[0]?.n ?? 0n) > 0n;
    },
    async insert(r) {
      await tx.query(sql`
        insert into registrations (id, seller_tax_code, message_id, kind, received_at, status, hold_reasons, content, form_xml, decided_at, decided_by, decision_reasons)
        values (${r.id}, ${r.sellerTaxCode}, ${r.messageId}, ${r.kind}, ${r.receivedAt}, ${r.status}, ${JSON.stringify(r.holdReasons)}::jsonb,
                ${JSON.stringify(r.content ?? {})}::jsonb, ${r.formXml}, ${r.decidedAt}, ${r.decidedBy ?? null},
                ${r.decisionReasons ? JSON.stringify(r.decisionReasons) : null}::jsonb)`);
    },
    async addAnswer(seller, messageId, a) {
      await tx.query(sql`
        insert into tvan_answers (seller_tax_code, message_id, seq, answer_type, answer_id, at, xml)
        values (${seller}, ${messageId},
                (select coalesce(max(seq), 1) + 1 from tvan_answers where seller_tax_code = ${seller} and message_id = ${messageId}),
                ${a.type}, ${a.messageId}, ${a.at}, ${a.xml})`);
    },
    async registerCertificate(seller, c, at) {
      await tx.query(sql`
        insert into certificates (seller_tax_code, fingerprint, serial, issuer, subject, not_before, not_after, der, registered_at)
        values (${seller}, ${c.fingerprint}, ${c.serial}, ${c.issuer}, ${c.subject}, ${c.notBefore}, ${c.notAfter}, ${c.der}, ${at})
        on conflict (seller_tax_code, fingerprint) do nothing`);
    },
    async stopSerial(seller, serial, at) {
      await tx.query(sql`
        update certificates set status = 'stopped', stopped_at = ${at}
        where seller_tax_code = ${seller} and ltrim(serial, '0') = ${bare(serial)} and status = 'active'`);
    },
    async setOfficeIfNone(seller, office) {
      await tx.query(sql`update sellers set tax_office = ${office}, updated_at = now() where tax_code = ${seller} and tax_office is null`);
    },
    async activeSerials(seller) {
      const rows = await tx.query<{ serial: string }>(sql`select serial from certificates where seller_tax_code = ${seller} and status = 'active'`);
      return new Set(rows.map((r) => bare(r.serial)));
    },
    async sellerProvince(seller) {
      const rows = await tx.query<{ province: string | null }>(sql`select province from sellers where tax_code = ${seller}`);
      return rows[0] ?? null;
    },
    async cashRegisterRange(seller, at) {
      const held = await tx.query<{ range: string }>(sql`select range from cash_register_ranges where seller_tax_code = ${seller} for update`);
      if (held[0]) return held[0].range;
      // 36^5 ≈ 60 million ranges: a draw that collides is drawn again.
      for (let attempt = 0; attempt < 20; attempt++) {
        const range = drawRange();
        const won = await tx.query<{ range: string }>(sql`
          insert into cash_register_range_owners (range, seller_tax_code) values (${range}, ${seller})
          on conflict (range) do nothing returning range`);
        if (!won[0]) continue;
        await tx.query(sql`insert into cash_register_ranges (seller_tax_code, range, assigned_at) values (${seller}, ${range}, ${at})`);
        return range;
      }
      throw new Error("cashRegisterRange: no free range after 20 draws");
    },
    async nextNumber() {
      const [row] = await tx.query<{ n: bigint }>(sql`select nextval('tvan_registration_notice_seq') as n`);
      return BigInt(row!.n);
    },
  };
}


/** Reads of the T-VAN records, and the officer's decision in a transaction of its own. */
export class PgTvanStore {
  constructor(private readonly db: Db) {}

  /** A message of a seller (any seller when null) with all its answers in order, or null. */
  async message(sellerTaxCode: string | null, messageId: string): Promise<RecordedMessage | null> {
    const rows = await this.db.query<{ seller_tax_code: string; message_type: string; received_at: Date; reply_type: string | null; reply: string | null; answered_at: Date | null }>(sql`
      select seller_tax_code, message_type, received_at, reply_type, reply, answered_at from tvan_messages
      where message_id = ${messageId} ${sellerTaxCode === null ? sql`` : sql`and seller_tax_code = ${sellerTaxCode}`}
      order by seller_tax_code limit 2`);
    if (rows.length !== 1 || !rows[0]!.reply) return null;
    const m = rows[0]!;
    const later = await this.db.query<{ answer_type: string; answer_id: string; at: Date; xml: string }>(sql`
      select answer_type, answer_id, at, xml from tvan_answers where seller_tax_code = ${m.seller_tax_code} and message_id = ${messageId} order by seq`);
    const firstId = /<MTDiep>([^<]*)<\/MTDiep>/.exec(m.reply!)?.[1] ?? "";
    return {
      messageId,
      type: m.message_type,
      sellerTaxCode: m.seller_tax_code,
      receivedAt: m.received_at,
      answers: [{ type: m.reply_type!, messageId: firstId, at: m.answered_at!, xml: m.reply! }, ...later.map((a) => ({ type: a.answer_type, messageId: a.answer_id, at: a.at, xml: a.xml }))],
    };
  }

  async listRegistrations(q: RegistrationQuery): Promise<RegistrationRecord[]> {
    const rows = await this.db.query<RegistrationRow>(sql`
      select ${COLUMNS} from registrations
      where true
        ${q.status ? sql`and status = ${q.status}` : sql``}
        ${q.seller ? sql`and seller_tax_code = ${q.seller}` : sql``}
        ${q.after ? sql`and (received_at, id) > (${q.after.receivedAt}, ${q.after.id}::uuid)` : sql``}
      order by received_at, id
      limit ${q.limit}`);
    return rows.map(toRecord);
  }

  /** Runs `fn` on the registration `id`, locked, in one transaction with the work it does; null when there is none. */
  async withRegistration<T>(
    id: string,
    fn: (r: RegistrationRecord, work: RegistrationWork & { decide(status: "accepted" | "refused", at: Date, by: string, reasons: Reason[] | null): Promise<void> }) => Promise<T>,
  ): Promise<T | null> {
    return this.db.transaction(async (tx) => {
      const rows = await tx.query<RegistrationRow>(sql`select ${COLUMNS} from registrations where id = ${id}::uuid for update`);
      if (!rows[0]) return null;
      const work = registrationWork(tx);
      return fn(toRecord(rows[0]), {
        ...work,
        async decide(status, at, by, reasons) {
          await tx.query(sql`
            update registrations set status = ${status}, decided_at = ${at}, decided_by = ${by},
              decision_reasons = ${reasons ? JSON.stringify(reasons) : null}::jsonb
            where id = ${id}::uuid`);
        },
      });
    });
  }
}
