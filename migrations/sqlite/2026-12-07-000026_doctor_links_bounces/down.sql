DROP TABLE bouncing_addresses;
DROP TABLE doctor_links;
