-- db-benchmark group-by questions (docs/dbbench.md), run as written by Tessera and by DuckDB on the same CSV
-- files (scripts/bench/dbbench.sh). Statement 0 loads the data (timed as "load"); each question materializes its
-- answer as table qN. ${data}: a `tessera-gen --dbbench groupby` directory.
CREATE TABLE x AS SELECT * FROM read_csv('${data}/x/*.csv', header = true, columns = {
  'id1': 'VARCHAR', 'id2': 'VARCHAR', 'id3': 'VARCHAR', 'id4': 'BIGINT', 'id5': 'BIGINT', 'id6': 'BIGINT',
  'v1': 'BIGINT', 'v2': 'BIGINT', 'v3': 'DOUBLE'});
-- q1: sum v1 by id1
CREATE TABLE q1 AS SELECT id1, sum(v1) AS v1 FROM x GROUP BY id1;
-- q2: sum v1 by id1:id2
CREATE TABLE q2 AS SELECT id1, id2, sum(v1) AS v1 FROM x GROUP BY id1, id2;
-- q3: sum v1 mean v3 by id3
CREATE TABLE q3 AS SELECT id3, sum(v1) AS v1, avg(v3) AS v3 FROM x GROUP BY id3;
-- q4: mean v1:v3 by id4
CREATE TABLE q4 AS SELECT id4, avg(v1) AS v1, avg(v2) AS v2, avg(v3) AS v3 FROM x GROUP BY id4;
-- q5: sum v1:v3 by id6
CREATE TABLE q5 AS SELECT id6, sum(v1) AS v1, sum(v2) AS v2, sum(v3) AS v3 FROM x GROUP BY id6;
-- q6: median v3 sd v3 by id4 id5
CREATE TABLE q6 AS SELECT id4, id5, quantile_cont(v3, 0.5) AS median_v3, stddev(v3) AS sd_v3 FROM x GROUP BY id4, id5;
-- q7: max v1 - min v2 by id3
CREATE TABLE q7 AS SELECT id3, max(v1)-min(v2) AS range_v1_v2 FROM x GROUP BY id3;
-- q8: largest two v3 by id6
CREATE TABLE q8 AS SELECT id6, v3 AS largest2_v3 FROM (SELECT id6, v3, row_number() OVER (PARTITION BY id6 ORDER BY v3 DESC) AS rn FROM x WHERE v3 IS NOT NULL) t WHERE rn <= 2;
-- q9: regression v1 v2 by id2 id4
CREATE TABLE q9 AS SELECT id2, id4, pow(corr(v1, v2), 2) AS r2 FROM x GROUP BY id2, id4;
-- q10: sum v3 count by id1:id6
CREATE TABLE q10 AS SELECT id1, id2, id3, id4, id5, id6, sum(v3) AS v3, count(*) AS count FROM x GROUP BY id1, id2, id3, id4, id5, id6;
