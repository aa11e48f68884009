DROP TABLE unsubscribe_links;
