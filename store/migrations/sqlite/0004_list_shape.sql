-- discover (issue 13): a type: html source without selectors finds its list
-- by shape at every poll; the shape it used is kept so /status can say when
-- the page's layout changed. Reserved number 0007 (renumbered to follow the
-- migrations on main at merge).
ALTER TABLE sources ADD COLUMN list_shape       TEXT    NOT NULL DEFAULT '';
ALTER TABLE sources ADD COLUMN list_shape_was   TEXT    NOT NULL DEFAULT '';
ALTER TABLE sources ADD COLUMN shape_changed_at INTEGER NOT NULL DEFAULT 0;
