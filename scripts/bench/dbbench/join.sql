-- db-benchmark join questions (docs/dbbench.md), written as the benchmark's DuckDB solution writes them, run by
-- Tessera and by DuckDB on the same CSV files (scripts/bench/dbbench.sh). Statements 0-3 load the tables (timed
-- together as "load"); each question materializes its answer as table qN. ${data}: a `tessera-gen --dbbench
-- join` directory.
CREATE TABLE x AS SELECT * FROM read_csv('${data}/x/*.csv', header = true, columns = {
  'id1': 'BIGINT', 'id2': 'BIGINT', 'id3': 'BIGINT', 'id4': 'VARCHAR', 'id5': 'VARCHAR', 'id6': 'VARCHAR',
  'v1': 'DOUBLE'});
CREATE TABLE small AS SELECT * FROM read_csv('${data}/small/*.csv', header = true, columns = {
  'id1': 'BIGINT', 'id4': 'VARCHAR', 'v2': 'DOUBLE'});
CREATE TABLE medium AS SELECT * FROM read_csv('${data}/medium/*.csv', header = true, columns = {
  'id1': 'BIGINT', 'id2': 'BIGINT', 'id4': 'VARCHAR', 'id5': 'VARCHAR', 'v2': 'DOUBLE'});
CREATE TABLE big AS SELECT * FROM read_csv('${data}/big/*.csv', header = true, columns = {
  'id1': 'BIGINT', 'id2': 'BIGINT', 'id3': 'BIGINT', 'id4': 'VARCHAR', 'id5': 'VARCHAR', 'id6': 'VARCHAR',
  'v2': 'DOUBLE'});
-- q1: small inner on int
CREATE TABLE q1 AS SELECT x.*, small.id4 AS small_id4, v2 FROM x JOIN small USING (id1);
-- q2: medium inner on int
CREATE TABLE q2 AS SELECT x.*, medium.id1 AS medium_id1, medium.id4 AS medium_id4, medium.id5 AS medium_id5, v2 FROM x JOIN medium USING (id2);
-- q3: medium outer on int
CREATE TABLE q3 AS SELECT x.*, medium.id1 AS medium_id1, medium.id4 AS medium_id4, medium.id5 AS medium_id5, v2 FROM x LEFT JOIN medium USING (id2);
-- q4: medium inner on factor
CREATE TABLE q4 AS SELECT x.*, medium.id1 AS medium_id1, medium.id2 AS medium_id2, medium.id4 AS medium_id4, v2 FROM x JOIN medium USING (id5);
-- q5: big inner on int
CREATE TABLE q5 AS SELECT x.*, big.id1 AS big_id1, big.id2 AS big_id2, big.id4 AS big_id4, big.id5 AS big_id5, big.id6 AS big_id6, v2 FROM x JOIN big USING (id3);
