"""Queries for ``loupe bench relevance``: queries with a right answer (per photo label) and
held-out nonsense. None of these is one of ``search.null_queries.NULL_QUERIES`` (the nulls the
cut is calibrated on), so the nonsense measures the cut on texts it never saw.

Labels are ``<set>:<label>``: ``samples:chelsea``, ``fashion:sandal``, ``animal:cat``."""

from __future__ import annotations

from loupe.bench.evaluation.samples import CAPTIONS

# sample label: (short English query, short Chinese query); the captions are queries too.
SAMPLE_SHORT: dict[str, tuple[str, str]] = {
    "astronaut": ("an astronaut", "宇航员"),
    "brick": ("bricks", "砖墙"),
    "camera": ("a photographer", "摄影师"),
    "chelsea": ("a cat", "一只猫"),
    "coffee": ("coffee", "咖啡"),
    "coins": ("coins", "硬币"),
    "grass": ("grass", "草地"),
    "gravel": ("gravel", "碎石"),
    "horse": ("a horse", "一匹马"),
    "hubble_deep_field": ("galaxies", "星系"),
    "immunohistochemistry": ("a microscope slide", "显微镜切片"),
    "moon": ("the moon", "月亮"),
    "page": ("printed text", "印刷文字"),
    "retina": ("a retina", "视网膜"),
    "rocket": ("a rocket", "火箭"),
    "text": ("handwriting", "手写字"),
    "motorcycle": ("a motorcycle", "摩托车"),
    "china": ("a pagoda", "宝塔"),
    "flower": ("a flower", "一朵花"),
}
FASHION: dict[str, tuple[str, str]] = {
    "t-shirt": ("a t-shirt", "T恤"),
    "trousers": ("trousers", "裤子"),
    "pullover": ("a pullover", "套头毛衣"),
    "dress": ("a dress", "连衣裙"),
    "coat": ("a coat", "外套"),
    "sandal": ("sandals", "凉鞋"),
    "shirt": ("a shirt", "衬衫"),
    "sneaker": ("sneakers", "运动鞋"),
    "bag": ("a bag", "手提包"),
    "ankle boot": ("ankle boots", "短靴"),
}
ANIMAL: dict[str, tuple[str, str]] = {
    "bear": ("a bear", "熊"),
    "bird": ("a bird", "鸟"),
    "cat": ("a cat", "猫"),
    "cow": ("a cow", "奶牛"),
    "dog": ("a dog", "狗"),
    "elephant": ("an elephant", "大象"),
    "giraffe": ("a giraffe", "长颈鹿"),
    "horse": ("a horse", "马"),
    "sheep": ("a sheep", "羊"),
    "zebra": ("a zebra", "斑马"),
}
NONSENSE: tuple[str, ...] = (
    "vbnq trelk oosp", "zimbo kraxle fent", "qqqq wwww eeee", "plarg snoot vrim",
    "hjkl yuio bvcx", "mnbvc xzlk jhgf", "frobnicate the wozzle", "blip blop bloop",
    "xyzzy plugh", "gribble spont achoo", "wug wugs wugging", "tlon uqbar orbis",
    "jabberwock borogove", "kazoo fizzbin quux", "aaaa bbbb",
    "how to appeal a parking fine", "the minutes of the annual general meeting",
    "depreciation of fixed assets", "null pointer exception in thread main",
    "the treaty of westphalia", "convert celsius to kelvin formula",
    "password reset email not received", "dns propagation takes 48 hours",
    "the second law of thermodynamics", "vat registration threshold",
    "stack overflow in a recursive function", "jurisdiction of the appellate court",
    "implied volatility of an option", "ISO 8601 week numbering", "compound interest formula",
    "git rebase onto another branch", "the categorical imperative", "pension contribution limits",
    "http 418 i am a teapot", "sql injection in a login form",
    "the half-life of carbon fourteen",
    "量子色动力学的拉格朗日量", "增值税申报截止日期", "合同违约的诉讼时效", "递归函数栈溢出",
    "股东大会会议纪要", "哈希值校验失败", "密码重置邮件没有收到", "期权的隐含波动率",
    "热力学第二定律", "阿巴阿巴", "嘻嘻哈哈呜呜", "啊啊啊啊啊", "的了是在不有",
    "乱七八糟的字符串", "养老金缴费上限", "域名解析需要四十八小时",
    "ldkfj weoiru xcmvn", "pzzt krong hummel", "7f3a 9c2e 11bd", "lorem dolor fugiat nulla",
)  # fmt: skip


def right_answers(*, with_mnist: bool) -> dict[str, set[str]]:
    """query -> the labels whose photos answer it rightly (a query may have several)."""
    pairs: list[tuple[str, str]] = []
    for label, (english, chinese) in CAPTIONS.items():
        pairs += [(english, f"samples:{label}"), (chinese, f"samples:{label}")]
    for label, (english, chinese) in SAMPLE_SHORT.items():
        pairs += [(english, f"samples:{label}"), (chinese, f"samples:{label}")]
    if with_mnist:
        for prefix, table in (("fashion", FASHION), ("animal", ANIMAL)):
            for label, (english, chinese) in table.items():
                pairs += [(english, f"{prefix}:{label}"), (chinese, f"{prefix}:{label}")]
    answers: dict[str, set[str]] = {}
    for query, label in pairs:
        answers.setdefault(query, set()).add(label)
    return answers
