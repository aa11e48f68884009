DROP TABLE cmi5_states;
DROP TABLE cmi5_statements;
DROP TABLE package_launches;
DROP TABLE package_attempts;
