-- Stored templates (templates/): per workspace and name, immutable versions; an update adds the
-- next version, a delete removes every version. Templates kept as files (relay.templates.directory)
-- are not stored here.
create table templates (
    workspace_id  varchar(64)   not null,
    name          varchar(64)   not null,   -- lower-case letters, digits, - and _
    version       integer       not null,   -- 1, 2, ...: the highest is the one a send uses by default
    subject       varchar(2000) not null,   -- the subject's Handlebars source
    text_source   text,                     -- the text part's source (text, html or both)
    html_source   text,                     -- the HTML part's source
    partials_json text,                     -- {name: source} of the partials this version declares
    defaults_json text,                     -- {field: value} filling fields the data leaves out
    created_at    timestamp with time zone not null,
    created_by    varchar(200)  not null,   -- the audit log's actor
    primary key (workspace_id, name, version)
);
