-- 0010_tvan_notice_numbers: the numbers (So) of the authority's T-VAN notices (tvan.md §6, §10).
-- A 01/TB-KTDL (204) is numbered YY + 10 digits of this sequence; gaps are fine (a number taken
-- by an answer whose transaction failed is never reused), duplicates never.
create sequence tvan_notice_seq minvalue 1 maxvalue 9999999999 cycle;
