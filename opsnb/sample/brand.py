"""The fictional brand 栖木家居: its channels, regions, platforms, people and campaign plan."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

BRAND = "栖木家居"

CHANNELS = ("自然搜索", "信息流广告", "微博", "抖音", "小红书", "微信私域", "KOL", "老带新")
CHANNEL_SHARE = (0.20, 0.18, 0.08, 0.16, 0.14, 0.10, 0.06, 0.08)
# probability that a new user of the channel never comes back after the first visit
CHANNEL_ONE_SHOT = (0.33, 0.45, 0.40, 0.42, 0.35, 0.22, 0.38, 0.25)
# relative purchase propensity of the channel's users
CHANNEL_PROPENSITY = (1.05, 0.85, 0.9, 0.95, 1.1, 1.3, 1.05, 1.2)
# channel mix of marketing touches (ads seen, links clicked) before a purchase
TOUCH_MIX = (0.14, 0.22, 0.08, 0.17, 0.16, 0.11, 0.06, 0.06)

REGIONS = ("华东", "华北", "华南", "华中", "西南", "西北", "东北")
REGION_SHARE = (0.32, 0.16, 0.20, 0.11, 0.11, 0.05, 0.05)
REGION_AOV = (1.06, 1.02, 1.04, 0.96, 0.95, 0.92, 0.94)

PLATFORMS = ("App", "小程序", "Web")
PLATFORM_SHARE = (0.42, 0.34, 0.24)

# daily spend: share weight relative to the channel's GMV share, cost per 1000 impressions, click-through rate
SPEND_TILT = {"自然搜索": 0.15, "信息流广告": 1.45, "微博": 1.15, "抖音": 1.3, "小红书": 1.2,
              "微信私域": 0.6, "KOL": 1.3, "老带新": 0.8}
CPM = {"自然搜索": 18.0, "信息流广告": 32.0, "微博": 24.0, "抖音": 40.0, "小红书": 45.0,
       "微信私域": 12.0, "KOL": 60.0, "老带新": 15.0}
CTR = {"自然搜索": 0.028, "信息流广告": 0.011, "微博": 0.007, "抖音": 0.016, "小红书": 0.019,
       "微信私域": 0.026, "KOL": 0.009, "老带新": 0.022}

PEOPLE = ("王晓雯", "李明轩", "张思远", "陈佳怡", "刘子涵", "杨帆", "赵可欣", "周博文")

ALL = "全渠道"


@dataclass(frozen=True)
class CampaignSpec:
    """One campaign of the plan; ``channels`` are the touch channels it tags (``全渠道`` = all)."""

    campaign_id: str
    name: str
    type: str
    start: date
    end: date                 # inclusive
    channel: str              # as written in campaigns.csv
    owner: str
    uplift: float             # conversion multiplier inside the window (on top of the season)
    roi: float                # attributed GMV ÷ cost the generator aims at

    @property
    def channels(self) -> tuple[str, ...]:
        if self.channel == ALL:
            return CHANNELS
        return tuple(self.channel.split("+"))


CAMPAIGNS = (
    CampaignSpec("CP2501", "新春年货节", "节日促销", date(2025, 1, 8), date(2025, 1, 22), "信息流广告+抖音", "陈佳怡", 1.1, 3.4),
    CampaignSpec("CP2502", "新品发布会", "新品发布", date(2025, 3, 15), date(2025, 3, 22), "微博+小红书", "李明轩", 1.1, 2.6),
    CampaignSpec("CP2503", "周年庆狂欢购", "大促", date(2025, 4, 18), date(2025, 4, 27), ALL, "王晓雯", 1.05, 4.1),
    CampaignSpec("CP2504", "618年中大促", "大促", date(2025, 6, 1), date(2025, 6, 18), ALL, "王晓雯", 1.0, 5.2),
    CampaignSpec("CP2505", "夏日特惠", "促销", date(2025, 7, 10), date(2025, 7, 25), "小红书+抖音", "赵可欣", 1.05, 3.0),
    CampaignSpec("CP2506", "双十一", "大促", date(2025, 11, 1), date(2025, 11, 11), ALL, "王晓雯", 1.0, 5.8),
    CampaignSpec("CP2507", "双十二年终盛典", "大促", date(2025, 12, 8), date(2025, 12, 12), "信息流广告+微博", "张思远", 1.0, 3.1),
    CampaignSpec("CP2601", "新春焕新季", "节日促销", date(2026, 1, 20), date(2026, 2, 3), "信息流广告+抖音", "陈佳怡", 1.1, 3.2),
    CampaignSpec("CP2602", "周年庆狂欢购", "大促", date(2026, 4, 17), date(2026, 4, 26), ALL, "王晓雯", 1.05, 4.4),
    CampaignSpec("CP2603", "618年中大促", "大促", date(2026, 6, 1), date(2026, 6, 18), ALL, "王晓雯", 1.0, 5.0),
    CampaignSpec("CP2604", "新品发布会", "新品发布", date(2026, 8, 20), date(2026, 8, 27), "微博+小红书", "李明轩", 1.1, 2.8),
    CampaignSpec("CP2605", "会员专享日", "会员活动", date(2026, 10, 8), date(2026, 10, 11), ALL, "刘子涵", 1.08, 3.6),
    CampaignSpec("CP2606", "社群裂变计划", "拉新裂变", date(2026, 10, 13), date(2026, 10, 25), "微信私域+老带新", "杨帆", 1.05, 0.6),
    CampaignSpec("CP2607", "直播带货专场", "直播", date(2026, 10, 20), date(2026, 10, 26), "抖音+KOL", "赵可欣", 1.08, 2.7),
    CampaignSpec("CP2608", "双十一", "大促", date(2026, 11, 1), date(2026, 11, 11), ALL, "王晓雯", 1.0, 0.0),
)
LOW_ROI_CAMPAIGN = "CP2606"
