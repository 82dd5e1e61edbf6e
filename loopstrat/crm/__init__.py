"""The contractor's own Airtable base: settings, change journal, pacing, sync, schema, backfill.

Never on the path of a text: a lead's reply only writes a journal row; the crm worker does the rest.
"""
