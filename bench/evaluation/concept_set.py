"""The concept eval set: 164 real photos from GCompris's data and our own queries about them.

Each subject names photos by file stem (``hammer`` matches hammer1..hammer9) in a GCompris
bundle folder, and carries four queries written for this set: a subject query in English and
in Chinese (``subject``: the noun, two words for compounds like "polar bear"), and a longer
one in each language (``phrase``). Categories group subjects ("an animal", "工具") into the
``category`` queries. A query's right answers are the photos of its subject or category;
photos of no subject (monuments without a generic name, a side cutter) are distractors that
only category queries count. Licences: each folder's README in the bundle (public domain,
CC0, CC-BY-SA 4.0, GPL-3).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Subject:
    stems: tuple[str, ...]
    en: str
    zh: str
    en_phrase: str
    zh_phrase: str
    categories: tuple[str, ...] = ()


# (bundle, folder inside it) → every photo stem there belongs to the set.
FOLDERS = (
    ("explore_farm_animals", "resource/animals"),
    ("explore_world_animals", "resource/animals"),
    ("categorization", "images/fishes"),
    ("categorization", "images/others"),
    ("categorization", "images/renewable"),
    ("categorization", "images/tools"),
    ("categorization", "images/monuments"),
)

CATEGORIES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    # name: (English query, Chinese query, folders whose every photo belongs to it)
    "animal": ("an animal", "动物", ("resource/animals", "images/fishes")),
    "bird": ("a bird", "鸟", ()),
    "tool": ("a tool", "工具", ("images/tools",)),
    "tableware": ("tableware", "餐具", ()),
    "ball": ("a ball", "球", ()),
    "energy": ("renewable energy", "可再生能源", ("images/renewable",)),
    "monument": ("a famous monument", "名胜古迹", ("images/monuments",)),
}

_ANIMAL = ("animal",)
_BIRD = ("animal", "bird")
SUBJECTS: tuple[Subject, ...] = (
    Subject(("cat",), "cat", "猫", "a pet cat at home", "家里的宠物猫", _ANIMAL),
    Subject(("chicken",), "chicken", "鸡", "hens in a farmyard", "农场里的母鸡", _BIRD),
    Subject(("cow",), "cow", "奶牛", "a cow grazing in a meadow", "在草地上吃草的奶牛", _ANIMAL),
    Subject(("dog",), "dog", "狗", "a dog standing outdoors", "站在户外的狗", _ANIMAL),
    Subject(("duck",), "duck", "鸭子", "a white duck by the water", "水边的白鸭子", _BIRD),
    Subject(("horse",), "horse", "马", "horses in a field", "田野里的马", _ANIMAL),
    Subject(("owl",), "owl", "猫头鹰", "an owl on a branch", "树枝上的猫头鹰", _BIRD),
    Subject(("pig",), "pig", "猪", "a pig on a farm", "农场里的猪", _ANIMAL),
    Subject(("sheep",), "sheep", "羊", "a sheep on the grass", "草地上的绵羊", _ANIMAL),
    Subject(("bison",), "bison", "野牛", "a bison on the prairie", "草原上的野牛", _ANIMAL),
    Subject(("chameleon",), "chameleon", "变色龙", "a lizard on a branch", "树枝上的蜥蜴", _ANIMAL),
    Subject(("crocodile",), "crocodile", "鳄鱼", "a crocodile on the shore", "岸边的鳄鱼", _ANIMAL),
    Subject(
        ("dragon",), "komodo dragon", "科莫多龙", "a big lizard on rocks", "岩石上的大蜥蜴", _ANIMAL
    ),
    Subject(
        ("giraffe",), "giraffe", "长颈鹿", "giraffes in the savanna", "草原上的长颈鹿", _ANIMAL
    ),
    Subject(("hedgehog",), "hedgehog", "刺猬", "a hedgehog in the grass", "草丛里的刺猬", _ANIMAL),
    Subject(("jaguar",), "jaguar", "美洲豹", "a spotted wild cat", "有斑点的野猫", _ANIMAL),
    Subject(("kangaroo",), "kangaroo", "袋鼠", "a kangaroo in the bush", "丛林里的袋鼠", _ANIMAL),
    Subject(("koala",), "koala", "考拉", "a koala in a tree", "树上的考拉", _ANIMAL),
    Subject(("lemur",), "lemur", "狐猴", "a lemur sitting on a rock", "坐在石头上的狐猴", _ANIMAL),
    Subject(("moose",), "moose", "驼鹿", "a moose in the forest", "森林里的驼鹿", _ANIMAL),
    Subject(
        ("narwhal",), "narwhal", "独角鲸", "a whale with a long tusk", "长着长牙的鲸鱼", _ANIMAL
    ),
    Subject(("panda",), "panda", "熊猫", "a giant panda eating bamboo", "吃竹子的大熊猫", _ANIMAL),
    Subject(
        ("polar_bear",), "polar bear", "北极熊", "a white bear on the ice", "冰上的白熊", _ANIMAL
    ),
    Subject(("scarlet_macaw",), "parrot", "鹦鹉", "a colourful parrot", "色彩鲜艳的鹦鹉", _BIRD),
    Subject(("fish",), "fish", "鱼", "a fish swimming in the sea", "在海里游的鱼", _ANIMAL),
    Subject(("baseball",), "baseball", "棒球", "a baseball on a table", "桌上的棒球", ("ball",)),
    Subject(
        ("volleyball",), "volleyball", "排球", "a ball for volleyball", "打排球用的球", ("ball",)
    ),
    Subject(("blackslate",), "blackboard", "黑板", "a blackboard in a classroom", "教室里的黑板"),
    Subject(("bucket",), "bucket", "水桶", "a wooden bucket", "一个木桶"),
    Subject(("cup", "buffetset"), "cup", "杯子", "a cup and saucer", "一套杯碟", ("tableware",)),
    Subject(("bulb",), "light bulb", "灯泡", "an electric light bulb", "一个电灯泡"),
    Subject(("chair",), "chair", "椅子", "a white wooden chair", "一把白色木椅"),
    Subject(("erasers",), "eraser", "橡皮", "a rubber eraser for pencil", "擦铅笔的橡皮"),
    Subject(("igloo",), "igloo", "冰屋", "a house made of snow", "用雪做的房子"),
    Subject(("knife",), "knife", "刀", "a kitchen knife", "一把菜刀", ("tableware",)),
    Subject(("pan",), "frying pan", "平底锅", "a pan for cooking", "做饭用的锅"),
    Subject(("pencil",), "pencil", "铅笔", "a pencil for writing", "写字用的铅笔"),
    Subject(("pillow",), "pillow", "枕头", "a soft pillow on a bed", "床上的软枕头"),
    Subject(("plate",), "plate", "盘子", "an empty dinner plate", "一个空盘子", ("tableware",)),
    Subject(("spoons",), "spoon", "勺子", "metal spoons", "金属勺子", ("tableware",)),
    Subject(("weighingMachine",), "scale", "秤", "a scale for weighing", "称重用的秤"),
    Subject(("dam",), "dam", "水坝", "a dam holding back a lake", "拦住湖水的大坝"),
    Subject(
        ("solar",), "solar panel", "太阳能板", "solar panels in the sun", "阳光下的太阳能电池板"
    ),
    Subject(
        ("windmill",), "wind turbine", "风车", "wind turbines making power", "发电的风力涡轮机"
    ),
    Subject(("hammer",), "hammer", "锤子", "a hammer for nails", "钉钉子的锤子"),
    Subject(("measuringTape",), "tape measure", "卷尺", "a measuring tape", "测量用的卷尺"),
    Subject(("multimeter",), "multimeter", "万用表", "an electrical meter", "测电的万用表"),
    Subject(("plier",), "pliers", "钳子", "a pair of pliers", "一把钳子"),
    Subject(("scissors",), "scissors", "剪刀", "a pair of scissors", "一把剪刀"),
    Subject(
        ("screwDriver",), "screwdriver", "螺丝刀", "a screwdriver for screws", "拧螺丝的螺丝刀"
    ),
    Subject(("wrench",), "wrench", "扳手", "an adjustable wrench", "活动扳手"),
    Subject(("tweezer",), "tweezers", "镊子", "small metal tweezers", "小金属镊子"),
    Subject(("sickle",), "sickle", "镰刀", "a sickle for cutting grass", "割草的镰刀"),
    Subject(("spray",), "spray bottle", "喷壶", "a bottle that sprays water", "喷水的瓶子"),
    Subject(
        ("nailCutter",), "nail clipper", "指甲刀", "a clipper for fingernails", "剪指甲的指甲刀"
    ),
    Subject(
        ("eiffelTower", "leaningTowerOfPisa", "jucheTower", "bayterek", "kutubMinar"),
        "tower",
        "塔",
        "a tall stone tower",
        "一座高塔",
    ),
    Subject(
        ("burj", "empireState"), "skyscraper", "摩天大楼", "a very tall building", "很高的大楼"
    ),
    Subject(
        ("arcDeTriomphe", "brandenburgGate", "IndiaGate"),
        "arch",
        "凯旋门",
        "a triumphal arch",
        "一座凯旋门",
    ),
    Subject(
        ("statueOfLiberty", "christTheRedeemer"), "statue", "雕像", "a giant statue", "巨大的雕像"
    ),
    Subject(("greatPyramid",), "pyramid", "金字塔", "an ancient pyramid", "古代金字塔"),
    Subject(("cathedral",), "cathedral", "大教堂", "a gothic cathedral", "哥特式大教堂"),
)


def subject_of(stem: str) -> Subject | None:
    """The subject a photo stem belongs to (its stem less trailing digits), if any."""
    bare = stem.rstrip("0123456789")
    for subject in SUBJECTS:
        if stem in subject.stems or bare in subject.stems:
            return subject
    return None
