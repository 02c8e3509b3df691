-- TPC-H: the 8 tables from dbgen's .tbl files ('|'-delimited, no header, a trailing '|' on every line), with the
-- column types of the TPC-H specification, clause 1.4: identifiers BIGINT, integers INTEGER, money and quantities
-- DECIMAL(15,2), dates DATE, text VARCHAR. Run with --set data=DIR (the directory of the .tbl files). DuckDB loads
-- the same files with the same statements (scripts/bench/tpch_duckdb.mjs), so both engines answer on equal tables.
CREATE TABLE nation AS SELECT * FROM read_csv('${data}/nation.tbl', delim='|', header=false, columns={
    'n_nationkey': 'BIGINT', 'n_name': 'VARCHAR', 'n_regionkey': 'BIGINT', 'n_comment': 'VARCHAR'});
CREATE TABLE region AS SELECT * FROM read_csv('${data}/region.tbl', delim='|', header=false, columns={
    'r_regionkey': 'BIGINT', 'r_name': 'VARCHAR', 'r_comment': 'VARCHAR'});
CREATE TABLE part AS SELECT * FROM read_csv('${data}/part.tbl', delim='|', header=false, columns={
    'p_partkey': 'BIGINT', 'p_name': 'VARCHAR', 'p_mfgr': 'VARCHAR', 'p_brand': 'VARCHAR', 'p_type': 'VARCHAR',
    'p_size': 'INTEGER', 'p_container': 'VARCHAR', 'p_retailprice': 'DECIMAL(15,2)', 'p_comment': 'VARCHAR'});
CREATE TABLE supplier AS SELECT * FROM read_csv('${data}/supplier.tbl', delim='|', header=false, columns={
    's_suppkey': 'BIGINT', 's_name': 'VARCHAR', 's_address': 'VARCHAR', 's_nationkey': 'BIGINT',
    's_phone': 'VARCHAR', 's_acctbal': 'DECIMAL(15,2)', 's_comment': 'VARCHAR'});
CREATE TABLE partsupp AS SELECT * FROM read_csv('${data}/partsupp.tbl', delim='|', header=false, columns={
    'ps_partkey': 'BIGINT', 'ps_suppkey': 'BIGINT', 'ps_availqty': 'INTEGER', 'ps_supplycost': 'DECIMAL(15,2)',
    'ps_comment': 'VARCHAR'});
CREATE TABLE customer AS SELECT * FROM read_csv('${data}/customer.tbl', delim='|', header=false, columns={
    'c_custkey': 'BIGINT', 'c_name': 'VARCHAR', 'c_address': 'VARCHAR', 'c_nationkey': 'BIGINT',
    'c_phone': 'VARCHAR', 'c_acctbal': 'DECIMAL(15,2)', 'c_mktsegment': 'VARCHAR', 'c_comment': 'VARCHAR'});
CREATE TABLE orders AS SELECT * FROM read_csv('${data}/orders.tbl', delim='|', header=false, columns={
    'o_orderkey': 'BIGINT', 'o_custkey': 'BIGINT', 'o_orderstatus': 'VARCHAR', 'o_totalprice': 'DECIMAL(15,2)',
    'o_orderdate': 'DATE', 'o_orderpriority': 'VARCHAR', 'o_clerk': 'VARCHAR', 'o_shippriority': 'INTEGER',
    'o_comment': 'VARCHAR'});
CREATE TABLE lineitem AS SELECT * FROM read_csv('${data}/lineitem.tbl', delim='|', header=false, columns={
    'l_orderkey': 'BIGINT', 'l_partkey': 'BIGINT', 'l_suppkey': 'BIGINT', 'l_linenumber': 'INTEGER',
    'l_quantity': 'DECIMAL(15,2)', 'l_extendedprice': 'DECIMAL(15,2)', 'l_discount': 'DECIMAL(15,2)',
    'l_tax': 'DECIMAL(15,2)', 'l_returnflag': 'VARCHAR', 'l_linestatus': 'VARCHAR', 'l_shipdate': 'DATE',
    'l_commitdate': 'DATE', 'l_receiptdate': 'DATE', 'l_shipinstruct': 'VARCHAR', 'l_shipmode': 'VARCHAR',
    'l_comment': 'VARCHAR'});
