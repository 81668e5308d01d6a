"""`plan import FILE.docx`: a new year's plan from its signed Word file, as a draft plan YAML.

Plans come in several shapes, and the importer reads them as a person would. Its parts, in the order a file
goes through them (each imports only those above it, the core and `sync.files`):

* `word` reads the Word file: the first page's lines and every table (nested ones too) as rows of cells, a
  cell merged across given once, bullets and Word's list numbering kept as lines; and it finds the task table by its
  content wherever it is (not the first table: a letterhead or a signature table may come before it; the appendix may
  run over several tables), its columns by the header words departments use (`STT`/`TT`, `Nhiệm vụ`/`Nội dung…`, `Kết
  quả/sản phẩm`/`Sản phẩm…`, `Tiến độ`/`Thời gian…`, `Phân công`/`Đơn vị thực hiện`/`Cơ quan thực hiện`, and a two-row
  header `Phân công thực hiện` over `Đơn vị chủ trì | Đơn vị phối hợp`, which then gives lead and support directly);
* `rows` merges the rows into task drafts: section rows (`I.`, `A.`, a bold row spanning the table) become
  task groups; rows split by page breaks (no STT) are merged back into the task above, mid-sentence joins
  with a space; bulleted and multi-paragraph cells keep their lines; numbering such as `1.1` or `a)` is kept
  beside the running STT;
* `units` matches unit names to the registry (aliases, OCR damage); a name that matches no unit becomes a
  proposed unit the Office confirms; and it reads the bodies outside the department, which are partners, not units;
* `roles` reads who leads and who supports from the assignment sentence (`read_roles`; a unit name broken
  over two lines joined first). It is a reading of free text: the draft lists what to check;
* `first_page` reads the plan's number, date, title, issuer and year from its first page;
* `draft` puts the parts together (`import_plan`), writes the draft YAML (`to_yaml`) and the review list
  (`review`): a draft with an unconfirmed unit or a task without units does not load until the Office has
  filled it in.
"""

from importlib import import_module

#: The names the single module `sync.plan_import` had, found in the part that holds each now: code written against
#: that module keeps working, and importing a part does not load the others.
MOVED = {"Cell": "word", "read_docx": "word", "task_rows": "word", "Draft": "rows", "merge_rows": "rows",
         "Proposal": "units", "UnitReader": "units", "partners_in": "units", "unread_bodies": "units",
         "read_roles": "roles", "role_doubts": "roles", "infer_roles": "roles", "header_facts": "first_page",
         "Imported": "draft", "import_plan": "draft", "to_yaml": "draft", "review": "draft",
         "WORD_HEADERS": "word", "HEADERS": "word", "TEXT_KEYS": "rows", "ALL_UNITS": "units", "VERBS": "units",
         "PUBLISH": "roles", "INTERNAL": "units", "OUTSIDE_HEADS": "units", "OUTSIDE_TAILS": "units",
         "PARTNERS": "units", "OUTSIDE_NAME": "units"}


def __getattr__(name: str) -> object:
    if name in MOVED:
        return getattr(import_module(f"{__name__}.{MOVED[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
