"""Real county codes of Fujian and Hunan used for synthetic household registers and schools."""

from __future__ import annotations

# Six-digit administrative division codes accepted by python-stdnum's GB 11643 region table,
# several counties per city so that "same city, another county" moves occur.
FUJIAN_COUNTIES: dict[str, str] = {
    "350102": "福州市鼓楼区",
    "350103": "福州市台江区",
    "350104": "福州市仓山区",
    "350111": "福州市晋安区",
    "350121": "福州市闽侯县",
    "350181": "福清市",
    "350203": "厦门市思明区",
    "350206": "厦门市湖里区",
    "350211": "厦门市集美区",
    "350212": "厦门市同安区",
    "350302": "莆田市城厢区",
    "350502": "泉州市鲤城区",
    "350503": "泉州市丰泽区",
    "350602": "漳州市芗城区",
    "350603": "漳州市龙文区",
    "350702": "南平市延平区",
    "350802": "龙岩市新罗区",
    "350902": "宁德市蕉城区",
}

HUNAN_COUNTIES: dict[str, str] = {
    "430102": "长沙市芙蓉区",
    "430103": "长沙市天心区",
    "430104": "长沙市岳麓区",
    "430105": "长沙市开福区",
    "430111": "长沙市雨花区",
    "430121": "长沙县",
    "430202": "株洲市荷塘区",
    "430203": "株洲市芦淞区",
    "430302": "湘潭市雨湖区",
    "430304": "湘潭市岳塘区",
    "430502": "邵阳市双清区",
    "430602": "岳阳市岳阳楼区",
    "430702": "常德市武陵区",
    "431002": "郴州市北湖区",
    "433101": "吉首市",
}

COUNTIES: tuple[str, ...] = tuple(FUJIAN_COUNTIES) + tuple(HUNAN_COUNTIES)
