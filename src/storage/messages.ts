/**
 * The T-VAN message log (tvan.md §13): a message and its first answer are recorded in one
 * transaction with everything the answer does — invoices of a package, cancellations
 * (invoices.ts), registrations (tvan-store.ts), summary tables (summary-store.ts) — so that all
 * of it commits with the reply or none of it does. The notices' numbers come from here too.
 */
import { type Db, sql } from "./db.js";
import { cancelIn, invoiceIn, issuePackage } from "./invoices.js";
import { first } from "./rows.js";
import type { MessageReply, MessagesPort, MessageWork, ReceivedMessage } from "./store.js";
import { summaryWork } from "./summary-store.js";
import { writing } from "./transaction.js";
import { registrationWork } from "./tvan-store.js";

export class PgMessages implements MessagesPort {
  constructor(private readonly db: Db) {}

  async nextNoticeNumber(): Promise<bigint> {
    const [row] = await this.db.query<{ n: bigint }>(sql`select nextval('tvan_notice_seq') as n`);
    if (!row) throw new Error("nextval returned no row");
    return BigInt(row.n);
  }

  async findMessageReply(sellerTaxCode: string, messageId: string): Promise<MessageReply | null> {
    const row = first(
      await this.db.query<{ reply_type: string | null; reply: string | null }>(sql`
        select reply_type, reply from tvan_messages where seller_tax_code = ${sellerTaxCode} and message_id = ${messageId}`),
    );
    return row?.reply_type && row.reply !== null ? { replyType: row.reply_type, reply: row.reply } : null;
  }

  async recordMessage(m: ReceivedMessage, answer: (work: MessageWork) => Promise<MessageReply>): Promise<MessageReply & { repeated: boolean }> {
    return writing(this.db, async (tx, tail) => {
      // The placeholder row first: a concurrent repeat of this message id, or a copy of its
      // signed content under another id (tvan_messages_signed, 0008), waits on the unique index
      // until this transaction ends, then finds the reply (and runs nothing itself). No conflict
      // target: either unique key makes the row a repeat.
      const signedDigest = m.signedDigest ?? null;
      const claimed = first(
        await tx.query<{ message_id: string }>(sql`
          insert into tvan_messages (seller_tax_code, message_id, message_type, received_at, signed_digest)
          values (${m.sellerTaxCode}, ${m.messageId}, ${m.messageType}, ${m.receivedAt}, ${signedDigest})
          on conflict do nothing
          returning message_id`),
      );
      if (!claimed) {
        // The same id first (a repeat), else the message with the same signed content (a replay).
        const row = first(
          await tx.query<{ reply_type: string; reply: string }>(sql`
            select reply_type, reply from tvan_messages
            where seller_tax_code = ${m.sellerTaxCode}
              and (message_id = ${m.messageId} or (message_type = ${m.messageType} and signed_digest = ${signedDigest}))
            order by message_id = ${m.messageId} desc
            limit 1`),
        );
        if (!row?.reply) throw new Error("recordMessage: a recorded message without its reply");
        return { replyType: row.reply_type, reply: row.reply, repeated: true };
      }
      const reply = await answer({
        cancelInvoice: (c) => cancelIn(tx, tail, c),
        getInvoice: (code) => invoiceIn(tx, code),
        registrations: registrationWork(tx),
        summaries: summaryWork(tx, tail.rollups),
        issueInvoices: (invs) => issuePackage(tx, tail, invs),
        cashRegisterRange: async (seller) => first(await tx.query<{ range: string }>(sql`select range from cash_register_ranges where seller_tax_code = ${seller}`))?.range ?? null,
      });
      await tx.query(sql`
        update tvan_messages set reply_type = ${reply.replyType}, reply = ${reply.reply}, answered_at = now()
        where seller_tax_code = ${m.sellerTaxCode} and message_id = ${m.messageId}`);
      return { ...reply, repeated: false };
    });
  }
}
