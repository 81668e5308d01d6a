"""Bodies outside the department named in a task's assignment: partners, not units.

The bodies plans name most are known by their names (PARTNERS); any other name that begins like one
(OUTSIDE_NAME: "Hội Nhà báo tỉnh", "Cục Thống kê") is not dropped in silence but goes to the review list.
"""
from __future__ import annotations

import re

from sync.core.schema import fold, nfc
from sync.plan_import.rows import Draft
from sync.plan_import.units import UnitReader

# the outside bodies plans name most, as written
PARTNERS = re.compile(
    r"(UBND (?:tỉnh|cấp huyện|cấp xã|các huyện[^,;.]*)|Ủy ban nhân dân tỉnh|Công an tỉnh|Ban Tuyên giáo Tỉnh ủy|"
    r"Ban Chỉ đạo CCHC của Chính phủ|Bộ [A-ZĐ][^\s,;.()]*(?: [a-zđà-ỹ]+| và [A-ZĐ][^\s,;.()]*| [A-ZĐ][^\s,;.()]*){0,3}|"
    r"Sở (?:Nội vụ|Tư pháp|Tài chính|Y tế|Xây dựng|Công Thương|Ngoại vụ|Kế hoạch và Đầu tư|Khoa học và Công nghệ|"
    r"Giáo dục và Đào tạo|Lao động - Thương binh và Xã hội|Văn hóa và Thể thao|Du lịch|Tài nguyên và Môi trường|"
    r"Giao thông vận tải|Nông nghiệp và Phát triển nông thôn|Thông tin và Truyền thông|Dân tộc)|"
    r"(?:Báo|Tạp chí) [A-ZĐ][^\s,;.()]*(?: [A-ZĐ][^\s,;.()]*)*|"
    r"Đài Phát thanh (?:và|-|–) Truyền hình(?: [A-ZĐ][^\s,;.()]*)*)")
# what begins the name of a body outside the department that PARTNERS may not know ("Hội Nhà báo tỉnh", "Cục
# Thống kê"): such a name is not dropped in silence, it goes to the review list
OUTSIDE_NAME = re.compile(r"(?<![\w-])(?<!phòng )(?<!thuộc )(?<!của )"
                          r"(?:Sở|Bộ|Báo|Đài|Tạp chí|Cục|Tổng cục|Viện|Hội|Liên đoàn|Hiệp hội|Trường|"
                          r"Bệnh viện|Ngân hàng|Kho bạc|Tòa án|Viện kiểm sát|Công an)"
                          r"(?: [A-ZĐ][^\s,;.()]*| (?:và|thanh|hình|nhà|báo)(?= \S)| (?:tỉnh|huyện)(?!\w))+")


def partners_in(text: str) -> list[str]:
    """The outside bodies PARTNERS knows, in the order named."""
    return list(dict.fromkeys(m.group(1).strip() for m in PARTNERS.finditer(nfc(text).replace("\n", " "))))


def unread_bodies(d: Draft, reader: UnitReader) -> list[str]:
    """Names of outside bodies in a task's assignment that are neither partners read nor units of the
    registry (nor proposed): the importer does not drop them in silence."""
    lines = nfc("\n".join((d.assignment, d.lead_text, d.support_text))).splitlines()
    out: list[str] = []
    for match in (m for line in lines for m in OUTSIDE_NAME.finditer(line)):
        name = match.group(0).strip()
        if any(name in p or p in name for p in d.partners) or reader.known_at(fold(name), 0) \
                or fold(name) in {fold(p.name) for p in reader.proposals.values()} or len(name.split()) < 2:
            continue
        out.append(name)
    return list(dict.fromkeys(out))
